// Built into Main.class (checked in beside it, as the test machine has no
// Java compiler) with `javac --release 17 Main.java`; rebuild it after a change.
// HotSpot on RISC-V: its JIT writes and flushes code, implicit null checks
// and the stack guard are SIGSEGVs turned into exceptions, and threads
// synchronize through monitors, a pool and parallel streams.
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.*;
public class Main {
  static long fib(int n) { return n < 2 ? n : fib(n-1) + fib(n-2); }
  static int depth;
  static void down() { depth++; down(); }
  static String depthProbe() { try { down(); return "none"; } catch (StackOverflowError e) { return depth > 1000 ? "caught" : "shallow " + depth; } }
  public static void main(String[] a) throws Exception {
    System.out.println("fib " + fib(30));
    Map<String,Integer> m = new HashMap<>();
    for (int i = 0; i < 300000; i++) m.merge("k" + (i % 1000), i, Integer::sum);
    System.out.println("map " + m.size() + " " + m.get("k7"));
    ExecutorService ex = Executors.newFixedThreadPool(4);
    List<Future<Long>> fs = new ArrayList<>();
    for (int t = 0; t < 8; t++) { final int tt = t; fs.add(ex.submit(() -> LongStream.range(0, 2_000_000).map(x -> (x * tt) % 13).sum())); }
    long s = 0; for (Future<Long> f : fs) s += f.get();
    ex.shutdown();
    System.out.println("pool " + s);
    int npe = 0;
    for (int i = 0; i < 100000; i++) { Object o = (i % 1000 == 0) ? null : "x"; try { npe += o.hashCode() & 1; } catch (NullPointerException e) { npe += 100; } }
    System.out.println("npe " + npe);
    try { int[] z = new int[3]; z[5] = 1; } catch (ArrayIndexOutOfBoundsException e) { System.out.println("aioobe " + e.getMessage()); }
    int d = 0; try { d = 5 / (npe - npe); } catch (ArithmeticException e) { System.out.println("arith " + e.getMessage()); }
    System.out.println("stream " + IntStream.rangeClosed(1, 1000).parallel().mapToObj(Integer::toString).collect(Collectors.joining()).length());
    StringBuilder sb = new StringBuilder(); for (int i = 0; i < 100000; i++) sb.append(i % 10); System.out.println("sb " + sb.toString().hashCode());
    System.out.println("so " + depthProbe());
    Thread t = new Thread(() -> { try { Thread.sleep(100000); } catch (InterruptedException e) { System.out.println("interrupted"); } });
    t.start(); t.interrupt(); t.join();
    Object lock = new Object(); int[] box = {0};
    Thread[] ws = new Thread[4];
    for (int i = 0; i < 4; i++) { ws[i] = new Thread(() -> { for (int k = 0; k < 20000; k++) synchronized (lock) { box[0]++; } }); ws[i].start(); }
    for (Thread w : ws) w.join();
    System.out.println("sync " + box[0]);
    System.out.println(String.format("%.6f %e", Math.sin(1.0) * Math.PI, Math.exp(10)));
  }
}

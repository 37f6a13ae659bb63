# Ruby 3.3 over the OS: threads under the GVL with a Queue, fork with a
# pipe and an exit status, loopback TCP between threads, a shell child
# (`sh`, which qemu-user runs as the host's), a signal to itself, and the
# interpreter's own arithmetic, hashing and exceptions.
require 'socket'
require 'digest'
q = Queue.new
ths = 4.times.map { |i| Thread.new { s = 0; 200_000.times { |k| s += (k * i) % 7 }; q << [i, s] } }
ths.each(&:join)
puts 4.times.map { q.pop }.sort.inspect
m = Mutex.new; cv = ConditionVariable.new; ready = false
waiter = Thread.new { m.synchronize { cv.wait(m) until ready; puts "condvar woken" } }
sleep 0.05; m.synchronize { ready = true; cv.signal }; waiter.join
r, w = IO.pipe
pid = fork { r.close; w.puts "child #{Process.ppid == Process.ppid}"; exit! 7 }
w.close; puts r.read; Process.wait(pid); puts $?.exitstatus
srv = TCPServer.new('127.0.0.1', 0); port = srv.addr[1]
t = Thread.new { c = srv.accept; c.puts c.gets.upcase; c.close }
s = TCPSocket.new('127.0.0.1', port); s.puts "hello"; puts s.gets; t.join
puts Digest::SHA256.hexdigest("abc" * 1000)
puts `echo from-shell`.strip
puts system("exit 4").inspect, $?.exitstatus
h = {}; 100000.times { |i| h["k#{i}"] = i * i }; puts h.values.sum
puts [3.14159.round(2), 10**30, Rational(1, 3) + Rational(1, 6), 2**0.5, (1..20).reduce(:*)].inspect
puts "%08.3f|%-6s|%+d|%x|%e" % [-3.14159, "ab", 42, 255, 6.02e23]
puts %w[pear apple fig banana].sort_by { |x| [x.size, x] }.join(",")
puts "The quick brown fox".scan(/\b\w{5}\b/).inspect, "Mississippi".gsub(/ss/, "SS")
begin; raise ArgumentError, "boom"; rescue => e; puts "#{e.class}: #{e.message}"; end
f = Fiber.new { x = Fiber.yield 1; Fiber.yield x + 1; :done }
puts [f.resume, f.resume(10), f.resume].inspect
Signal.trap("USR1") { puts "got usr1" }; Process.kill("USR1", Process.pid); sleep 0.1
at_exit { puts "bye" }

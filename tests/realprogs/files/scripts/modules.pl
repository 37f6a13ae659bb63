# Modules and runtime features: ithreads with a shared variable, Time::HiRes,
# POSIX (strftime, floor), Data::Dumper, Storable, flock between processes,
# IO::Select over two pipes, signals to itself, getpwuid, big hashes and sorts.
use strict; use warnings;
use threads; use threads::shared;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime floor ceil fmod);
use Data::Dumper; use Storable qw(freeze thaw dclone);
use Fcntl qw(:flock SEEK_SET O_RDWR O_CREAT);
use IO::Select;
$| = 1;
my $total :shared = 0;
my @t = map { my $k = $_; threads->create(sub { my $s = 0; $s += $_ * $k for 1 .. 10000; { lock($total); $total += $s } return $s }) } 1 .. 4;
my @r = map { $_->join } @t;
print "threads: @r total $total\n";
print strftime("%Y-%m-%d %H:%M:%S %a %j", gmtime(1234567890)), " ", strftime("%c", localtime(0)), "\n";
printf "%.20g %.17g %s %s %s\n", 0.1, 1/3, floor(-2.5), ceil(-2.5), fmod(10, 3);
$Data::Dumper::Sortkeys = 1; $Data::Dumper::Indent = 1;
print Dumper({ a => [1, 2, { b => 'c' }], n => 3.25, s => "x\ty" });
my $d = thaw(freeze({ list => [1 .. 5], h => { k => 'v' } }));
print join(",", @{ $d->{list} }), " $d->{h}{k}\n";
open(my $fh, '+>', 'lock.txt') or die; flock($fh, LOCK_EX) or die "flock: $!";
my $pid = fork() // die;
if ($pid == 0) { open(my $g, '<', 'lock.txt') or die; print "child nb lock: ", (flock($g, LOCK_EX | LOCK_NB) ? "got" : "busy: $!"), "\n"; exit 0 }
waitpid($pid, 0); flock($fh, LOCK_UN);
pipe(my $r1, my $w1); pipe(my $r2, my $w2);
$pid = fork() // die;
if ($pid == 0) { close $r1; close $r2; syswrite($w2, "second\n"); sleep 0.2; syswrite($w1, "first\n"); exit 0 }
close $w1; close $w2;
my $sel = IO::Select->new($r1, $r2); my @order;
while ($sel->count) { for my $h ($sel->can_read(5)) { my $n = sysread($h, my $buf, 100); if ($n) { push @order, $buf =~ s/\n//r } else { $sel->remove($h) } } }
waitpid($pid, 0); print "select order: @order\n";
my $got = 0; local $SIG{USR1} = sub { $got++ }; kill USR1 => $$; kill USR1 => $$; print "usr1 $got\n";
my @pw = getpwuid(0); print "pw: ", defined $pw[0] ? $pw[0] : "none", "\n";
my $s = join("", map { chr(65 + $_ % 26) } 0 .. 99999); my %c; $c{$_}++ for split //, $s; print "count ", scalar(keys %c), " $c{A}\n";
my @sorted = sort { $b <=> $a } map { ($_ * 7919) % 10007 } 1 .. 50000; print "sorted $sorted[0] $sorted[-1] $sorted[25000]\n";
print "utf8: ", length("Grüße"), " ", do { use utf8; my $u = "Grüße"; length($u) . " " . uc($u) }, "\n";

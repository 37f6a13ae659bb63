# Processes, pipes, signals and sockets from perl, without exec: fork only.
use strict;
use warnings;
use POSIX qw(:sys_wait_h);
use Socket;
use IO::Handle;
$| = 1;

# A pipe and a forked writer.
pipe(my $r, my $w) or die "pipe: $!";
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    close $r;
    print $w "line $_ from child\n" for 1 .. 3;
    close $w;
    exit 7;
}
close $w;
my @lines = <$r>;
waitpid($pid, 0);
print "read ", scalar(@lines), " lines, last: $lines[-1]";
printf "child exit %d signal %d\n", $? >> 8, $? & 127;

# open '-|' with no command: an implicit fork, the child's stdout a pipe.
my $kid = open(my $from, '-|') // die "fork: $!";
if ($kid == 0) {
    print join(",", map { $_ * $_ } 1 .. 10), "\n";
    exit 0;
}
my $got = <$from>;
close $from;
print "squares: $got", "close status: $?\n";

# A child killed by a signal, and SIGCHLD.
my $chld = 0;
$SIG{CHLD} = sub { $chld++ };
$pid = fork() // die;
if ($pid == 0) { sleep 30; exit 0 }
kill 'TERM', $pid;
waitpid($pid, 0);
printf "killed: signal %d, WIFSIGNALED %d, SIGCHLD seen %d\n", $? & 127, WIFSIGNALED($?) ? 1 : 0, $chld > 0 ? 1 : 0;
$SIG{CHLD} = 'DEFAULT';

# alarm and a handler that dies out of a blocking read.
pipe(my $idle, my $never) or die;
my $res = eval {
    local $SIG{ALRM} = sub { die "alarm\n" };
    alarm 1;
    my $x = <$idle>;
    alarm 0;
    "no alarm";
};
print "eval: ", ($res // $@);

# socketpair between parent and child.
socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
$a->autoflush(1);
$b->autoflush(1);
$pid = fork() // die;
if ($pid == 0) {
    close $a;
    while (my $l = <$b>) { chomp $l; print $b uc($l), " (", length($l), ")\n" }
    exit 0;
}
close $b;
for my $word (qw(alpha beta gamma)) {
    print $a "$word\n";
    my $echo = <$a>;
    print "socketpair: $echo";
}
shutdown($a, 1);
waitpid($pid, 0);

# Loopback TCP: the child connects to the parent's listener.
socket(my $srv, PF_INET, SOCK_STREAM, getprotobyname('tcp')) or die "socket: $!";
setsockopt($srv, SOL_SOCKET, SO_REUSEADDR, pack("l", 1)) or die;
bind($srv, sockaddr_in(0, INADDR_LOOPBACK)) or die "bind: $!";
listen($srv, 5) or die "listen: $!";
my ($port) = sockaddr_in(getsockname($srv));
$pid = fork() // die;
if ($pid == 0) {
    socket(my $c, PF_INET, SOCK_STREAM, getprotobyname('tcp')) or die;
    connect($c, sockaddr_in($port, INADDR_LOOPBACK)) or die "connect: $!";
    $c->autoflush(1);
    print $c "sum 1 2 3 4 5\n";
    my $ans = <$c>;
    print "client got: $ans";
    exit 0;
}
accept(my $conn, $srv) or die "accept: $!";
$conn->autoflush(1);
my $req = <$conn>;
my ($cmd, @n) = split ' ', $req;
my $sum = 0;
$sum += $_ for @n;
print $conn "$cmd=$sum\n";
close $conn;
waitpid($pid, 0);
print "server done, child status $?\n";
exit 3;

# Names and sockets: getaddrinfo, services and protocols from /etc, UDP over
# IPv4 and IPv6 loopback, a forked TCP server over IPv6, shutdown, a refused
# connection.
use strict; use warnings;
use Socket qw(:all);
use IO::Socket::IP;
$| = 1;
my ($err, @res) = getaddrinfo("localhost", "http", { socktype => SOCK_STREAM });
print "gai: ", ($err ? "error $err" : join(" ", sort map { (getnameinfo($_->{addr}, NI_NUMERICHOST | NI_NUMERICSERV))[1] . "/" . (getnameinfo($_->{addr}, NI_NUMERICHOST | NI_NUMERICSERV))[2] } @res)), "\n";
my @s = getservbyname("smtp", "tcp"); print "smtp port $s[2]\n";
my @p = getprotobyname("udp"); print "udp proto $p[2]\n";
my $h = gethostbyname("localhost"); print "ghbn: ", defined $h ? inet_ntoa($h) : "undef", "\n";
# UDP over loopback, IPv4 and IPv6.
for my $fam ([AF_INET, "127.0.0.1"], [AF_INET6, "::1"]) {
    my $srv = IO::Socket::IP->new(LocalHost => $fam->[1], LocalPort => 0, Proto => 'udp') or die "udp: $@";
    my $cli = IO::Socket::IP->new(PeerHost => $fam->[1], PeerPort => $srv->sockport, Proto => 'udp') or die "udp cli: $@";
    $cli->send("ping " . $fam->[1]);
    my $from = $srv->recv(my $buf, 100);
    $srv->send("pong", 0, $from);
    $cli->recv(my $ans, 100);
    print "udp $fam->[1]: $buf -> $ans, family ", ($srv->sockdomain == AF_INET6 ? 6 : 4), "\n";
}
# TCP with IO::Socket::IP over IPv6, a forked server, shutdown and EOF.
my $l = IO::Socket::IP->new(LocalHost => "::1", LocalPort => 0, Listen => 4, ReuseAddr => 1) or die "listen: $@";
my $pid = fork() // die;
if ($pid == 0) { my $c = $l->accept; my $data = do { local $/; <$c> }; print $c scalar(reverse $data); close $c; exit 0 }
my $c = IO::Socket::IP->new(PeerHost => "::1", PeerPort => $l->sockport) or die "connect: $@";
print $c "abcdef" x 1000; $c->shutdown(SHUT_WR);
my $back = do { local $/; <$c> };
waitpid($pid, 0);
print "tcp6 echo ", length($back), " ", substr($back, 0, 12), " peer ", $c->peerhost, "\n";
my $o = getsockopt($c, SOL_SOCKET, SO_TYPE); print "so_type ", unpack("i", $o), "\n";
my $bad = IO::Socket::IP->new(PeerHost => "127.0.0.1", PeerPort => 1); print "refused: ", ($bad ? "connected" : ($! + 0 ? "$!" : "err")), "\n";

# Signals across fork and exec: ignored ones stay ignored, handled ones are
# reset, the mask and a pending signal are kept (seen in /proc/self/status),
# forty children reaped with WNOHANG, a process group killed at once.
use strict; use warnings;
use POSIX qw(:signal_h :sys_wait_h);
$| = 1;
# An ignored signal stays ignored across exec; a handled one is reset.
$SIG{INT} = 'IGNORE';
$SIG{TERM} = sub { };
my $rc = system('sh', '-c', 'kill -INT $$; echo survived INT; kill -TERM $$; echo not reached');
printf "sh: exit %d signal %d\n", $rc >> 8, $rc & 127;
# The mask is kept across exec: a blocked USR1 stays pending in the child.
my $old = POSIX::SigSet->new;
sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR1), $old) or die;
# (SigQ counts the user's queued signals machine-wide: left out.)
$rc = system('sh', '-c', 'kill -USR1 $$; exec grep -E "^(Sig(Pnd|Blk|Ign|Cgt)|ShdPnd)" /proc/self/status');
printf "blocked: exit %d signal %d\n", $rc >> 8, $rc & 127;
sigprocmask(SIG_SETMASK, $old);
$SIG{INT} = 'DEFAULT';
$rc = system('sh', '-c', 'exec grep -E "^(Sig(Pnd|Blk|Ign|Cgt)|ShdPnd)" /proc/self/status');
# Many children at once, reaped with waitpid(-1, WNOHANG).
my %kids;
for my $i (1 .. 40) {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) { exit($i % 7) }
    $kids{$pid} = $i;
}
my ($n, $sum) = (0, 0);
while (%kids) {
    my $pid = waitpid(-1, WNOHANG);
    if ($pid > 0) { $sum += $? >> 8; $n++; delete $kids{$pid} } else { select(undef, undef, undef, 0.01) }
}
print "reaped $n, statuses add to $sum, waitpid now ", waitpid(-1, WNOHANG), "\n";
# Process groups: a child leads its own group; kill the group.
# (TERM's disposition is the default again: the group's TERM may come
# before the child's exec.)
$SIG{TERM} = 'DEFAULT';
my $pid = fork() // die;
if ($pid == 0) { setpgrp(0, 0); exec('sh', '-c', 'sleep 30 & sleep 30; echo not reached') }
setpgrp($pid, $pid);    # as shells do: no race with the child's own call
print "child group is its pid: ", (getpgrp($pid) == $pid ? 1 : 0), "\n";
kill 'TERM', -$pid;
waitpid($pid, 0);
printf "group killed: signal %d\n", $? & 127;

# perl running other programs: open '-|' and '|-' with a command, qx, system,
# exec in a forked child, and %ENV passed down.
use strict;
use warnings;
$| = 1;

open(my $fh, '-|', 'sort', '-r', 'words.txt') or die "open -|: $!";
my @sorted = <$fh>;
close($fh) or die "close: $! $?";
print "sort -r: ", scalar(@sorted), " lines, first $sorted[0]";

open(my $ls, '-|', 'ls tree | wc -l') or die;
my $n = <$ls>;
close $ls;
$n =~ s/\s+//g;
print "ls | wc -l through sh: $n\n";

open(my $to, '|-', 'tr', 'a-z', 'A-Z') or die "open |-: $!";
print $to "piped into tr\n";
close $to;

my $out = `echo backticks; exit 4`;
printf "qx: %s status %d\n", $out =~ s/\n//r, $? >> 8;

my $rc = system('sh', '-c', 'echo system says hi; exit 2');
printf "system: %d\n", $rc >> 8;
$rc = system('no-such-program-here');
printf "missing program: %d\n", $rc;

$ENV{PVM_PERL_VAR} = 'passed';
print `sh -c 'echo env: \$PVM_PERL_VAR'`;

my $pid = fork() // die;
if ($pid == 0) { exec('sh', '-c', 'kill -USR1 $$') or die "exec: $!" }
waitpid($pid, 0);
printf "exec'd child killed by signal %d\n", $? & 127;

my @words = split ' ', `cat tree/a.txt tree/b.txt`;
print "words: ", scalar(@words), "\n";

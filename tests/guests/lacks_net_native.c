// What a machine without programs of its own answers: execve of an
// x86-64 program. On Linux (and pvm on Linux, which runs host programs
// natively) it runs; the bare-metal host has none, and answers as a
// Linux kernel without the x86-64 binary format does (ENOEXEC): its
// expectation is tests/expected/lacks_net_native.baremetal.out. Sockets
// of every family it has (AF_UNIX, loopback AF_INET and AF_INET6) are
// made on both.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int e) {
    switch (e) {
    case EAFNOSUPPORT:
        return "EAFNOSUPPORT";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case ENOEXEC:
        return "ENOEXEC";
    case ENOENT:
        return "ENOENT";
    case EACCES:
        return "EACCES";
    default:
        return strerror(e);
    }
}

static void try_socket(const char *what, int domain, int type) {
    int fd = socket(domain, type, 0);
    printf("socket(%s): %s\n", what, fd >= 0 ? "ok" : err(errno));
    if (fd >= 0)
        close(fd);
}

// A complete x86-64 Linux program: exit(42).
static const unsigned char x86_exit42[] = {
    // ELF header
    0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 62, 0, 1, 0, 0, 0,                 // ET_EXEC, EM_X86_64, version
    0x78, 0, 0x40, 0, 0, 0, 0, 0,            // entry 0x400078
    64, 0, 0, 0, 0, 0, 0, 0,                 // phoff
    0, 0, 0, 0, 0, 0, 0, 0,                  // shoff
    0, 0, 0, 0, 64, 0, 56, 0,                // flags, ehsize, phentsize
    1, 0, 0, 0, 0, 0, 0, 0,                  // phnum 1, no sections
    // program header: PT_LOAD, R+X, the whole file at 0x400000
    1, 0, 0, 0, 5, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0,                  // offset
    0, 0, 0x40, 0, 0, 0, 0, 0,               // vaddr
    0, 0, 0x40, 0, 0, 0, 0, 0,               // paddr
    0x84, 0, 0, 0, 0, 0, 0, 0,               // filesz
    0x84, 0, 0, 0, 0, 0, 0, 0,               // memsz
    0, 0x10, 0, 0, 0, 0, 0, 0,               // align
    // code: mov edi, 42; mov eax, 60 (exit); syscall
    0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05,
};

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    try_socket("AF_INET, SOCK_STREAM", AF_INET, SOCK_STREAM);
    try_socket("AF_INET, SOCK_DGRAM", AF_INET, SOCK_DGRAM);
    try_socket("AF_INET6, SOCK_STREAM", AF_INET6, SOCK_STREAM);
    try_socket("AF_UNIX, SOCK_STREAM", AF_UNIX, SOCK_STREAM);
    int sv[2];
    int r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("socketpair(AF_UNIX): %s\n", r == 0 ? "ok" : err(errno));
    if (r == 0) {
        char c = 0;
        printf("through it: %d\n",
               (int)(write(sv[0], "z", 1) == 1 && read(sv[1], &c, 1) == 1 && c == 'z'));
    }

    int fd = open("x86-program", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || write(fd, x86_exit42, sizeof x86_exit42) != sizeof x86_exit42)
        return 1;
    close(fd);
    chmod("x86-program", 0755);
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {"x86-program", NULL};
        execv("./x86-program", argv);
        printf("execve of an x86-64 program: %s\n", err(errno));
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    printf("its status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

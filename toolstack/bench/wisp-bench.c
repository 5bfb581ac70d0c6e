/* wisp-bench.c (guest userspace tool, static Linux binary; guest and service initramfs): disk and TCP benchmarks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE \
    "usage: wisp-bench [-w SECONDS] MODE ARG...\n" \
    "  disk seq-read|seq-write|rand-read|rand-write DEV MIB\n" \
    "        seq: MIB blocks of 1 MiB from offset 0; rand: MIB MiB of 4 KiB blocks at\n" \
    "        random aligned offsets (fixed seed) within the first MIB MiB of DEV.\n" \
    "        O_DIRECT (the page cache when DEV refuses it); writes end with fsync.\n" \
    "        DEV (an existing file or block device) must hold at least MIB MiB.\n" \
    "  tcp-server PORT [COUNT]   serve COUNT connections (default 1) one after another\n" \
    "  tcp-send HOST PORT MIB    send MIB MiB to a tcp-server, timed until it has all\n" \
    "  tcp-rtt HOST PORT N       N 1-byte ping-pongs with a tcp-server\n" \
    "HOST is an IPv4 address. -w: how long tcp-send and tcp-rtt retry connecting\n" \
    "(default 60 s; a server in another guest may not be up yet).\n" \
    "Output: one line 'BENCH ...' with the numbers, or 'BENCH ... FAILED why'.\n" \
    "Exit status: 0 done, 1 failed, 2 usage.\n"

enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

#define MIB (1024u * 1024u)
#define SEQ_BLOCK MIB
#define RAND_BLOCK 4096u
#define DIRECT_ALIGN 4096u          /* O_DIRECT wants buffers and offsets aligned to the LBA size */
#define MAX_MIB 65536u
#define SEND_CHUNK (128u * 1024u)
#define RAND_SEED 0x5eed5eed5eedull

/* First byte of a connection: what the client wants from the server. */
#define PROTO_SINK 'S'              /* then data until the client's EOF; reply: 8-byte LE count */
#define PROTO_PING 'P'              /* then 1-byte pings, each echoed, until the client's EOF */

/* The line every message starts with, e.g. "BENCH disk seq-read"; set once per run. */
static char what[64] = "BENCH";
static unsigned int connect_wait_s = 60;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;

    printf("%s FAILED ", what);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(EXIT_FAILED);
}

static void usage(const char *why) __attribute__((noreturn));
static void usage(const char *why)
{
    fprintf(stderr, "wisp-bench: %s\n%s", why, USAGE);
    exit(EXIT_USAGE);
}

static double now_s(void)
{
    struct timespec ts;

    /* In a Wisp guest this clock is pvclock-backed, so it is the guest's real time. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A decimal in [min, max], or a usage error naming the argument. */
static unsigned long parse_number(const char *text, const char *name, unsigned long min,
                                  unsigned long max)
{
    char *end;
    unsigned long value;
    char why[96];

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || value < min || value > max) {
        snprintf(why, sizeof(why), "%s must be a number from %lu to %lu, not '%s'", name, min,
                 max, text);
        usage(why);
    }
    return value;
}

/* ---- disk ---- */

enum disk_mode { SEQ_READ, SEQ_WRITE, RAND_READ, RAND_WRITE };

static const char *const disk_mode_names[] = {
    [SEQ_READ] = "seq-read", [SEQ_WRITE] = "seq-write",
    [RAND_READ] = "rand-read", [RAND_WRITE] = "rand-write",
};

static bool is_write(enum disk_mode mode) { return mode == SEQ_WRITE || mode == RAND_WRITE; }
static bool is_random(enum disk_mode mode) { return mode == RAND_READ || mode == RAND_WRITE; }

/* The open that O_DIRECT may refuse. WISP_BENCH_REFUSE_DIRECT=1 makes it refuse as a
 * file system without direct I/O would, so the host test can reach the fallback. */
static int open_direct(const char *dev, int flags)
{
    const char *refuse = getenv("WISP_BENCH_REFUSE_DIRECT");

    if (refuse && strcmp(refuse, "1") == 0) {
        errno = EINVAL;
        return -1;
    }
    return open(dev, flags | O_DIRECT);
}

/* Opens DEV for the mode, with O_DIRECT when DEV allows it; *direct says which. */
static int open_disk(const char *dev, enum disk_mode mode, bool *direct)
{
    int flags = (is_write(mode) ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    struct stat st;
    int fd;

    /* Say what is wrong with DEV before saying anything about O_DIRECT. */
    if (stat(dev, &st) < 0)
        fail("cannot open %s: %s", dev, strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        fail("%s is neither a regular file nor a block device", dev);
    fd = open_direct(dev, flags);

    *direct = fd >= 0;
    if (fd < 0 && errno == EINVAL) {
        printf("BENCH note: %s refuses O_DIRECT (%s); measuring through the page cache\n", dev,
               strerror(errno));
        fd = open(dev, flags);
    }
    if (fd < 0)
        fail("cannot open %s: %s", dev, strerror(errno));
    return fd;
}

/* DEV's size in bytes: a regular file's length or a block device's capacity. */
static uint64_t disk_bytes(int fd, const char *dev)
{
    struct stat st;
    uint64_t bytes;

    if (fstat(fd, &st) < 0)
        fail("cannot stat %s: %s", dev, strerror(errno));
    if (S_ISREG(st.st_mode))
        return (uint64_t)st.st_size;
    if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
        fail("cannot read the size of %s: %s", dev, strerror(errno));
    return bytes;
}

/* xorshift64: the same offsets on every run and every machine. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* One whole block at offset; a short transfer is retried for the rest. */
static void transfer(int fd, const char *dev, enum disk_mode mode, uint8_t *buf, size_t len,
                     uint64_t offset)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = is_write(mode) ? pwrite(fd, buf + done, len - done, (off_t)(offset + done))
                                   : pread(fd, buf + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("%s of %zu bytes at offset %" PRIu64 " of %s: %s",
                 is_write(mode) ? "write" : "read", len, offset + done, dev, strerror(errno));
        if (n == 0)
            fail("%s ended at offset %" PRIu64, dev, offset + done);
        done += (size_t)n;
    }
}

static int run_disk(int argc, char **argv)
{
    enum disk_mode mode;
    const char *dev;
    unsigned long mib;
    bool direct;
    uint8_t *buf;
    int fd;

    if (argc != 3)
        usage("disk takes MODE DEV MIB");
    for (mode = SEQ_READ; mode <= RAND_WRITE; mode++)
        if (strcmp(argv[0], disk_mode_names[mode]) == 0)
            break;
    if (mode > RAND_WRITE)
        usage("disk MODE is seq-read, seq-write, rand-read or rand-write");
    dev = argv[1];
    mib = parse_number(argv[2], "MIB", 1, MAX_MIB);
    snprintf(what, sizeof(what), "BENCH disk %s", disk_mode_names[mode]);

    fd = open_disk(dev, mode, &direct);
    uint64_t size = disk_bytes(fd, dev);
    if (size < (uint64_t)mib * MIB)
        fail("%s holds %" PRIu64 " bytes, fewer than %lu MiB", dev, size, mib);
    if (posix_memalign((void **)&buf, DIRECT_ALIGN, SEQ_BLOCK))
        fail("out of memory");
    /* Not zeros: no layer may skip or compress what it writes. */
    for (size_t i = 0; i < SEQ_BLOCK; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    if (!direct && !is_write(mode))
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);   /* read the device, not the cache */

    size_t block = is_random(mode) ? RAND_BLOCK : SEQ_BLOCK;
    uint64_t ops = (uint64_t)mib * MIB / block;
    uint64_t blocks_in_range = ops;     /* the range is MIB MiB either way */
    uint64_t seed = RAND_SEED;
    double start = now_s();

    for (uint64_t i = 0; i < ops; i++) {
        uint64_t index = is_random(mode) ? next_random(&seed) % blocks_in_range : i;
        transfer(fd, dev, mode, buf, block, index * block);
    }
    if (is_write(mode) && fsync(fd) < 0)
        fail("fsync of %s: %s", dev, strerror(errno));
    double secs = now_s() - start;
    uint64_t bytes = ops * block;

    if (secs <= 0)
        secs = 1e-9;
    printf("%s MBps=%.2f iops=%.0f bytes=%" PRIu64 " secs=%.6f%s\n", what,
           (double)bytes / 1e6 / secs, (double)ops / secs, bytes, secs,
           direct ? "" : " direct=no");
    close(fd);
    free(buf);
    return EXIT_DONE;
}

/* ---- TCP ---- */

static void write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("send: %s", n < 0 ? strerror(errno) : "connection closed");
        p += n;
        len -= (size_t)n;
    }
}

/* Reads exactly len bytes; false at a clean end of stream before the first byte. */
static bool read_all(int fd, void *data, size_t len)
{
    uint8_t *p = data;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("receive: %s", strerror(errno));
        if (n == 0) {
            if (got == 0)
                return false;
            fail("receive: connection closed mid-message");
        }
        got += (size_t)n;
    }
    return true;
}

static void set_nodelay(int fd)
{
    int one = 1;

    /* 1-byte pings must leave at once, not wait for Nagle. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        fail("TCP_NODELAY: %s", strerror(errno));
}

/* Sink: count bytes until EOF, then tell the client how many came. */
static void serve_sink(int fd)
{
    static uint8_t buf[SEND_CHUNK];
    uint64_t total = 0;
    uint8_t reply[8];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("receive: %s", strerror(errno));
        total += (uint64_t)n;
    }
    for (int i = 0; i < 8; i++)
        reply[i] = (uint8_t)(total >> (8 * i));
    write_all(fd, reply, sizeof(reply));
    printf("BENCH tcp-server sink bytes=%" PRIu64 "\n", total);
}

static void serve_ping(int fd)
{
    uint8_t byte;
    uint64_t count = 0;

    set_nodelay(fd);
    while (read_all(fd, &byte, 1)) {
        write_all(fd, &byte, 1);
        count++;
    }
    printf("BENCH tcp-server ping count=%" PRIu64 "\n", count);
}

static int run_tcp_server(int argc, char **argv)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    unsigned long count;
    int one = 1, lfd;

    snprintf(what, sizeof(what), "BENCH tcp-server");
    if (argc < 1 || argc > 2)
        usage("tcp-server takes PORT [COUNT]");
    addr.sin_port = htons((uint16_t)parse_number(argv[0], "PORT", 1, 65535));
    count = argc == 2 ? parse_number(argv[1], "COUNT", 1, 1000000) : 1;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        fail("socket: %s", strerror(errno));
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        fail("bind to port %s: %s", argv[0], strerror(errno));
    if (listen(lfd, 4) < 0)
        fail("listen: %s", strerror(errno));
    printf("BENCH tcp-server listening port=%s\n", argv[0]);
    fflush(stdout);

    for (unsigned long i = 0; i < count; i++) {
        uint8_t kind;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            fail("accept: %s", strerror(errno));
        if (!read_all(fd, &kind, 1))
            fail("a client closed before saying what it wants");
        if (kind == PROTO_SINK)
            serve_sink(fd);
        else if (kind == PROTO_PING)
            serve_ping(fd);
        else
            fail("unknown request byte 0x%02x", kind);
        fflush(stdout);
        close(fd);
    }
    close(lfd);
    return EXIT_DONE;
}

/* Connects to HOST:PORT, retrying for connect_wait_s while nobody listens yet. */
static int connect_to(const char *host, const char *port_text)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    double give_up;

    addr.sin_port = htons((uint16_t)parse_number(port_text, "PORT", 1, 65535));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        usage("HOST must be an IPv4 address (a.b.c.d)");
    give_up = now_s() + connect_wait_s;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
            fail("socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return fd;
        int err = errno;
        close(fd);
        bool not_yet = err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
                       err == ETIMEDOUT || err == EINTR;
        if (!not_yet || now_s() >= give_up)
            fail("connect to %s:%s: %s", host, port_text, strerror(err));
        usleep(100 * 1000);
    }
}

static int run_tcp_send(int argc, char **argv)
{
    static uint8_t buf[SEND_CHUNK];
    uint8_t kind = PROTO_SINK, reply[8];
    unsigned long mib;
    uint64_t bytes, received = 0;
    int fd;

    snprintf(what, sizeof(what), "BENCH tcp-send");
    if (argc != 3)
        usage("tcp-send takes HOST PORT MIB");
    mib = parse_number(argv[2], "MIB", 1, MAX_MIB);
    bytes = (uint64_t)mib * MIB;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    fd = connect_to(argv[0], argv[1]);

    double start = now_s();
    write_all(fd, &kind, 1);
    for (uint64_t left = bytes; left; ) {
        size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        write_all(fd, buf, n);
        left -= n;
    }
    /* The clock stops when the server says it has everything, not when our buffer took it. */
    if (shutdown(fd, SHUT_WR) < 0)
        fail("shutdown: %s", strerror(errno));
    if (!read_all(fd, reply, sizeof(reply)))
        fail("the server closed without a byte count");
    double secs = now_s() - start;
    for (int i = 0; i < 8; i++)
        received |= (uint64_t)reply[i] << (8 * i);
    if (received != bytes)
        fail("the server got %" PRIu64 " bytes of %" PRIu64, received, bytes);
    if (secs <= 0)
        secs = 1e-9;
    printf("%s MBps=%.2f bytes=%" PRIu64 " secs=%.6f\n", what, (double)bytes / 1e6 / secs,
           bytes, secs);
    close(fd);
    return EXIT_DONE;
}

static int run_tcp_rtt(int argc, char **argv)
{
    uint8_t kind = PROTO_PING;
    unsigned long n;
    int fd;

    snprintf(what, sizeof(what), "BENCH tcp-rtt");
    if (argc != 3)
        usage("tcp-rtt takes HOST PORT N");
    n = parse_number(argv[2], "N", 1, 100000000);
    fd = connect_to(argv[0], argv[1]);
    set_nodelay(fd);
    write_all(fd, &kind, 1);

    double start = now_s();
    for (unsigned long i = 0; i < n; i++) {
        uint8_t ping = (uint8_t)i, pong;

        write_all(fd, &ping, 1);
        if (!read_all(fd, &pong, 1))
            fail("the server closed after %lu pings", i);
        if (pong != ping)
            fail("ping %lu came back as 0x%02x, not 0x%02x", i, pong, ping);
    }
    double secs = now_s() - start;
    printf("%s usec=%.1f n=%lu secs=%.6f\n", what, secs * 1e6 / (double)n, n, secs);
    close(fd);
    return EXIT_DONE;
}

int main(int argc, char **argv)
{
    int i = 1;

    /* A peer that goes away must give an error line, not kill us silently. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (i + 1 < argc && strcmp(argv[i], "-w") == 0) {
        connect_wait_s = (unsigned int)parse_number(argv[i + 1], "-w SECONDS", 0, 86400);
        i += 2;
    }
    if (i >= argc)
        usage("no MODE");
    if (strcmp(argv[i], "disk") == 0)
        return run_disk(argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "tcp-server") == 0)
        return run_tcp_server(argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "tcp-send") == 0)
        return run_tcp_send(argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "tcp-rtt") == 0)
        return run_tcp_rtt(argc - i - 1, argv + i + 1);
    usage("MODE is disk, tcp-server, tcp-send or tcp-rtt");
}

/*
 * Userspace delay link for the latency lab (the kernel here has no tc netem).
 *
 * Opens one TUN device in each of two network namespaces and forwards every IP packet from one
 * to the other after holding it for the configured one-way delay (per direction), optionally
 * dropping a share of packets and capping the rate (serialisation delay). Timing uses
 * CLOCK_MONOTONIC with ppoll's nanosecond timeout; run it under `chrt -f` so it is scheduled
 * on time on a busy machine.
 *
 * Usage: delay-link <nsA> <devA> <nsB> <devB>
 *   nsA/nsB: names under /var/run/netns; devA/devB: TUN device names to create there.
 * stdin commands (one per line, answered with one line on stdout):
 *   set <a_to_b_us> <b_to_a_us> <loss_ppm> <rate_kbit>   -> "ok"   (rate 0 = unlimited)
 *   stats                                                -> "stats <json>"
 * stdout events, one line each, times in CLOCK_MONOTONIC microseconds:
 *   ready
 *   syn <ab|ba> <t_us> <src>:<sport> <dst>:<dport>       (a TCP SYN without ACK entered the link)
 *   req <ab|ba> <t_us> <src>:<sport> <dst>:<dport> <HTTP request line>   (first packet of a request)
 *   res <ab|ba> <t_us> <src>:<sport> <dst>:<dport> <HTTP status line>    (first packet of a response)
 *   dat <ab|ba> <t_us> <src>:<sport> <dst>:<dport> <payload bytes>        (any other TCP data)
 * Exits on SIGTERM/SIGINT or when stdin closes; the TUN devices vanish with the process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 8192
#define SLOT_BYTES 2048

struct packet {
  uint64_t due_ns;
  uint16_t len;
  unsigned char data[SLOT_BYTES];
};

struct direction {
  const char *name;
  int in_fd, out_fd;
  uint64_t delay_ns;
  uint64_t rate_bps; /* 0 = unlimited */
  uint32_t loss_ppm;
  uint64_t last_due_ns;
  struct packet *ring;
  unsigned head, count;
  uint64_t forwarded, dropped_loss, dropped_full, bytes;
  uint64_t late_ns_sum, late_ns_max; /* how long after its due time each packet was written */
};

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "delay-link: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int open_tun_in(const char *ns, const char *dev) {
  char path[256];
  snprintf(path, sizeof path, "/var/run/netns/%s", ns);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die(path);
  if (setns(nsfd, CLONE_NEWNET) < 0) die("setns");
  close(nsfd);
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  return fd;
}

/*
 * Reports what the lab needs as witness: a TCP SYN (not SYN-ACK: a connection being opened), the
 * first packet of an HTTP/1.1 request (its request line) and of a response (its status line), and
 * the length of every other data packet.
 */
static void report_tcp(const struct direction *d, const unsigned char *p, size_t len, uint64_t t) {
  if (len < 20 || (p[0] >> 4) != 4 || p[9] != 6) return;
  size_t ihl = (size_t)(p[0] & 15) * 4;
  if (len < ihl + 20) return;
  unsigned char flags = p[ihl + 13];
  size_t doff = (size_t)(p[ihl + 12] >> 4) * 4;
  char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, p + 12, src, sizeof src);
  inet_ntop(AF_INET, p + 16, dst, sizeof dst);
  unsigned sport = (unsigned)p[ihl] << 8 | p[ihl + 1];
  unsigned dport = (unsigned)p[ihl + 2] << 8 | p[ihl + 3];
  unsigned long long us = (unsigned long long)(t / 1000);
  if ((flags & 0x02) && !(flags & 0x10)) {
    printf("syn %s %llu %s:%u %s:%u\n", d->name, us, src, sport, dst, dport);
    fflush(stdout);
    return;
  }
  if (len <= ihl + doff) return;
  const char *pl = (const char *)p + ihl + doff;
  size_t n = len - ihl - doff;
  int is_req = (n > 4 && (!memcmp(pl, "GET ", 4) || !memcmp(pl, "POST ", 5) || !memcmp(pl, "HEAD ", 5)));
  int is_res = (n > 12 && !memcmp(pl, "HTTP/1.", 7));
  if (!is_req && !is_res) {
    /* Any other data: its length only (the lab reads how long a response took to cross). */
    printf("dat %s %llu %s:%u %s:%u %zu\n", d->name, us, src, sport, dst, dport, n);
    fflush(stdout);
    return;
  }
  char first[160];
  size_t k = 0;
  while (k < n && k < sizeof first - 1 && pl[k] != '\r' && pl[k] != '\n') {
    first[k] = (pl[k] >= 32 && pl[k] < 127) ? pl[k] : '?';
    k++;
  }
  first[k] = 0;
  printf("%s %s %llu %s:%u %s:%u %s\n", is_req ? "req" : "res", d->name, us, src, sport, dst, dport, first);
  fflush(stdout);
}

static void take_in(struct direction *d) {
  for (;;) {
    if (d->count == SLOTS) {
      /* Ring full: read and drop (a tail-drop queue). */
      unsigned char scratch[SLOT_BYTES];
      ssize_t n = read(d->in_fd, scratch, sizeof scratch);
      if (n <= 0) return;
      d->dropped_full++;
      continue;
    }
    struct packet *pk = &d->ring[(d->head + d->count) % SLOTS];
    ssize_t n = read(d->in_fd, pk->data, SLOT_BYTES);
    if (n <= 0) return;
    uint64_t t = now_ns();
    report_tcp(d, pk->data, (size_t)n, t);
    if (d->loss_ppm > 0 && (uint32_t)(random() % 1000000) < d->loss_ppm) {
      d->dropped_loss++;
      continue;
    }
    uint64_t due = t + d->delay_ns;
    if (d->rate_bps > 0) {
      uint64_t tx_ns = (uint64_t)n * 8ull * 1000000000ull / d->rate_bps;
      uint64_t start = d->last_due_ns > t + d->delay_ns ? d->last_due_ns : t + d->delay_ns;
      due = start + tx_ns;
    }
    /* Never reorder: a delay lowered at run time must not let a packet overtake another. */
    if (due < d->last_due_ns) due = d->last_due_ns;
    d->last_due_ns = due;
    pk->due_ns = due;
    pk->len = (uint16_t)n;
    d->count++;
  }
}

/* Writes every packet that is due; returns the next due time (0 if the queue is empty). */
static uint64_t send_due(struct direction *d) {
  while (d->count > 0) {
    struct packet *pk = &d->ring[d->head];
    uint64_t now = now_ns();
    if (pk->due_ns > now) return pk->due_ns;
    if (write(d->out_fd, pk->data, pk->len) < 0 && errno != EAGAIN && errno != EIO) die("write");
    d->late_ns_sum += now - pk->due_ns;
    if (now - pk->due_ns > d->late_ns_max) d->late_ns_max = now - pk->due_ns;
    d->forwarded++;
    d->bytes += pk->len;
    d->head = (d->head + 1) % SLOTS;
    d->count--;
  }
  return 0;
}

static void command(char *line, struct direction *ab, struct direction *ba) {
  unsigned long long a_us, b_us, loss, kbit;
  if (sscanf(line, "set %llu %llu %llu %llu", &a_us, &b_us, &loss, &kbit) == 4 && loss <= 1000000) {
    ab->delay_ns = a_us * 1000ull;
    ba->delay_ns = b_us * 1000ull;
    ab->loss_ppm = ba->loss_ppm = (uint32_t)loss;
    ab->rate_bps = ba->rate_bps = kbit * 1000ull;
    printf("ok\n");
  } else if (strncmp(line, "stats", 5) == 0) {
    struct direction *ds[2] = {ab, ba};
    printf("stats {");
    for (int i = 0; i < 2; i++) {
      struct direction *d = ds[i];
      printf("%s\"%s\":{\"forwarded\":%llu,\"bytes\":%llu,\"lost\":%llu,\"full\":%llu,\"queued\":%u,"
             "\"lateUsMean\":%.1f,\"lateUsMax\":%.1f}",
             i ? "," : "", d->name, (unsigned long long)d->forwarded, (unsigned long long)d->bytes,
             (unsigned long long)d->dropped_loss, (unsigned long long)d->dropped_full, d->count,
             d->forwarded ? (double)d->late_ns_sum / (double)d->forwarded / 1000.0 : 0.0, (double)d->late_ns_max / 1000.0);
    }
    printf("}\n");
  } else {
    printf("error unknown command: %s\n", line);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: delay-link <nsA> <devA> <nsB> <devB>\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  srandom((unsigned)now_ns());

  int fa = open_tun_in(argv[1], argv[2]);
  int fb = open_tun_in(argv[3], argv[4]);
  struct direction ab = {.name = "ab", .in_fd = fa, .out_fd = fb};
  struct direction ba = {.name = "ba", .in_fd = fb, .out_fd = fa};
  ab.ring = calloc(SLOTS, sizeof(struct packet));
  ba.ring = calloc(SLOTS, sizeof(struct packet));
  if (!ab.ring || !ba.ring) die("calloc");
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  printf("ready\n");
  fflush(stdout);

  char line[256];
  size_t used = 0;
  while (!stopping) {
    uint64_t next_a = send_due(&ab), next_b = send_due(&ba);
    uint64_t next = next_a && next_b ? (next_a < next_b ? next_a : next_b) : (next_a ? next_a : next_b);
    struct pollfd pfd[3] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}, {0, POLLIN, 0}};
    struct timespec timeout, *tp = NULL;
    if (next) {
      uint64_t now = now_ns();
      uint64_t wait = next > now ? next - now : 0;
      timeout.tv_sec = (time_t)(wait / 1000000000ull);
      timeout.tv_nsec = (long)(wait % 1000000000ull);
      tp = &timeout;
    }
    int r = ppoll(pfd, 3, tp, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    if (pfd[0].revents & POLLIN) take_in(&ab);
    if (pfd[1].revents & POLLIN) take_in(&ba);
    if (pfd[2].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(0, line + used, sizeof line - 1 - used);
      if (n == 0) break; /* stdin closed: the lab is gone */
      if (n > 0) {
        used += (size_t)n;
        line[used] = 0;
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
          *nl = 0;
          command(line, &ab, &ba);
          memmove(line, nl + 1, used - (size_t)(nl + 1 - line) + 1);
          used -= (size_t)(nl + 1 - line);
        }
        if (used == sizeof line - 1) used = 0; /* an over-long line: discard */
      }
    }
  }
  return 0;
}

/* client_rendezvous (common/client.c) against an in-process server thread:
 * the valid port for a good decoy, the errno for every way a rendezvous can
 * fail, the deadline under signals, and no descriptor left behind. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "addr.h"
#include "client.h"
#include "config.h"

#define LO 20000
#define HI 20099

enum mode { REPLY, SPLIT, SILENT };

struct srv {
	int lfd, cfd;
	uint16_t port;
	const char *reply;
	enum mode mode;
	char peer[INET6_ADDRSTRLEN];
	pthread_t th;
};

static uint16_t map[HI - LO + 1];
static struct conf_table ct;
static struct target tgt;

static void *serve(void *arg)
{
	struct srv *s = arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	size_t n = strlen(s->reply);

	s->cfd = accept(s->lfd, (struct sockaddr *)&peer, &len);
	if (s->cfd < 0)
		return NULL;
	inet_ntop(AF_INET, &peer.sin_addr, s->peer, sizeof s->peer);
	if (s->mode == SILENT)
		return NULL;             /* held open until srv_stop */
	if (s->mode == SPLIT && n > 2) {
		if (write(s->cfd, s->reply, 2) != 2)
			return NULL;
		usleep(50000);
		if (write(s->cfd, s->reply + 2, n - 2) < 0)
			return NULL;
	} else if (n > 0 && write(s->cfd, s->reply, n) < 0) {
		return NULL;
	}
	close(s->cfd);
	s->cfd = -1;
	return NULL;
}

static void srv_start(struct srv *s, const char *reply, enum mode mode)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof in;

	memset(s, 0, sizeof *s);
	s->cfd = -1;
	s->reply = reply;
	s->mode = mode;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&in, sizeof in) != 0 ||
	    listen(s->lfd, 4) != 0 || getsockname(s->lfd, (struct sockaddr *)&in, &len) != 0)
		abort();
	s->port = ntohs(in.sin_port);
	if (pthread_create(&s->th, NULL, serve, s) != 0)
		abort();
}

static void srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);      /* wakes a thread still in accept */
	pthread_join(s->th, NULL);
	if (s->cfd >= 0)
		close(s->cfd);
	close(s->lfd);
}

/* Rendezvous with a fresh server answering reply; errno kept for checks. */
static int rdv(const char *reply, enum mode mode, unsigned offsets, time_t now,
	       const char *bind_to, char *peer_out)
{
	struct srv s;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				   .sin_port = htons(22) };
	struct sockaddr_in local = { .sin_family = AF_INET };
	int r, e;

	srv_start(&s, reply, mode);
	tgt.rendezvous = s.port;
	tgt.offsets = offsets;
	if (bind_to)
		inet_pton(AF_INET, bind_to, &local.sin_addr);
	r = client_rendezvous(&tgt, (struct sockaddr *)&dst, sizeof dst,
			      bind_to ? (struct sockaddr *)&local : NULL, bind_to ? sizeof local : 0, now);
	e = errno;
	srv_stop(&s);
	if (peer_out)
		strcpy(peer_out, s.peer);
	errno = e;
	return r;
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void on_alarm(int sig) { (void)sig; }

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void setup(void)
{
	for (int i = 0; i <= HI - LO; i++)
		map[i] = (uint16_t)(LO + (i * 7 + 3) % (HI - LO + 1));   /* a bijection */
	ct.name = "t";
	ct.range = (struct port_range){ LO, HI };
	ct.table.range = ct.range;
	ct.table.map = map;
	ct.loaded = true;
	tgt.name = "t";
	tgt.port = 22;
	tgt.table = &ct;
	tgt.timeout = 5;
}

static void test_good(void)
{
	char peer[INET6_ADDRSTRLEN];
	time_t t15 = 15 * 3600 + 600;                 /* 15:10 UTC */

	CHECK_EQ(rdv("20005\n", REPLY, 0, 0, NULL, NULL), map[5]);
	CHECK_EQ(rdv("20005\n", SPLIT, 0, 0, NULL, NULL), map[5]);     /* two segments */
	CHECK_EQ(rdv("20099\n", REPLY, 0, 0, NULL, NULL), map[99]);
	CHECK_EQ(rdv("20005\n", REPLY, SCRAMBLE_OFF_HOUR, t15, NULL, NULL),
		 map_wrap(map[5] + 15, ct.range));
	/* client octet: our own address as the server sees it (127.0.0.1) */
	CHECK_EQ(rdv("20005\n", REPLY, SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET, t15, NULL, NULL),
		 map_wrap(map[5] + 15 - 1, ct.range));
	/* bound to the application's address: leave from it, octet from it */
	CHECK_EQ(rdv("20005\n", REPLY, SCRAMBLE_OFF_OCTET, 0, "127.0.0.77", peer),
		 map_wrap(map[5] - 77, ct.range));
	CHECK_STR(peer, "127.0.0.77");
}

static void test_bad(void)
{
	static const char *bad[] = {
		"", "\n", "abc\n", "20005", "020005\n", "19999\n", "20100\n", "99999\n",
		"20005\nX", "20005 \n", " 20005\n", "+20005\n", "20005\r\n", "2000500000\n",
		"-1\n", "0\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		errno = 0;
		int r = rdv(bad[i], REPLY, 0, 0, NULL, NULL);
		CHECK_EQ(r, -1);
		CHECK_EQ(errno, ECONNREFUSED);
	}
}

static void test_refused(void)
{
	struct srv s;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	srv_start(&s, "", REPLY);
	uint16_t port = s.port;
	srv_stop(&s);                                 /* nothing listens there now */
	tgt.rendezvous = port;
	errno = 0;
	CHECK_EQ(client_rendezvous(&tgt, (struct sockaddr *)&dst, sizeof dst, NULL, 0, 0), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	/* not an IP destination at all */
	struct sockaddr sa = { .sa_family = AF_UNIX };
	errno = 0;
	CHECK_EQ(client_rendezvous(&tgt, &sa, sizeof sa, NULL, 0, 0), -1);
	CHECK_EQ(errno, ECONNREFUSED);
}

static void test_timeout_with_signals(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };     /* no SA_RESTART */
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	struct timespec t0;
	long ms;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	tgt.timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	CHECK_EQ(rdv("", SILENT, 0, 0, NULL, NULL), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	ms = ms_since(&t0);
	printf("# silent server: %ld ms\n", ms);
	CHECK(ms >= 950 && ms < 2500);
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	tgt.timeout = 5;
}

int main(void)
{
	int fds;

	setup();
	fds = fd_count();
	test_good();
	test_bad();
	test_refused();
	test_timeout_with_signals();
	CHECK_EQ(fd_count(), fds);                    /* every descriptor closed */
	return unit_done();
}

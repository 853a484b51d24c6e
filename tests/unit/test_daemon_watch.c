/* Unit tests: the procfs watch's judgement (daemon/watch.c) on fixed
 * /proc/net/tcp contents, with the session functions recorded instead of
 * run.  Found under load: a pass that saw only the client's own end of its
 * connection (SYN_SENT, or the server's end not yet in the table) took the
 * arrival and, in the same pass, the end of the session; and one pass can
 * miss a live connection altogether (a read of /proc/net/tcp is not
 * atomic), so the end needs two passes without the client. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../daemon/watch.c"
#include "unit.h"

static int n_ready, n_arrived, n_killed;

void session_ready(struct daemon *d, struct session *s) { (void)d; (void)s; n_ready++; }
void session_arrived(struct daemon *d, struct session *s)
{
	(void)d;
	s->state = S_ARRIVED;
	n_arrived++;
}
void session_kill(struct daemon *d, struct session *s) { (void)d; s->state = S_ENDING; n_killed++; }
bool login_poll(struct login_watch *w) { (void)w; return false; }
bool login_uses_stderr(const struct login_watch *w) { (void)w; return false; }
int diag_listeners(procfs_fn fn, void *arg) { (void)fn; (void)arg; return -1; }

static char dir[] = "/tmp/test_watch.XXXXXX";

/* /proc/net/tcp with the given data lines; an empty tcp6 */
static void write_procfs(const char *lines)
{
	char path[64];
	FILE *f;
	snprintf(path, sizeof path, "%s/tcp", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n%s", lines);
	fclose(f);
	snprintf(path, sizeof path, "%s/tcp6", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
	fclose(f);
}

#define LINE(l, r, st) "   0: " l " " r " " st " 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 20 0 0 10 -1\n"

static struct service conf = { .name = (char *)"echo", .mode = MODE_EXEC, .poll_ms = 200 };
static struct svc svc = { .name = (char *)"echo" };

/* One session of a server on 127.0.0.1:31098 (0x797A) for client 127.0.0.2,
 * the rendezvous having arrived on 127.0.0.1; ticks watch passes over lines. */
static void passes(enum sstate st, const char *lines, int ticks)
{
	struct daemon d = { .procfs_prefix = dir };
	struct session s = { .state = st, .svc = &svc, .conf = &conf, .port = 31098, .pid = 1,
			     .has_local = true };
	addr_parse("127.0.0.2", &s.client);
	addr_parse("127.0.0.1", &s.local_ip);
	d.sessions = &s;
	d.nsessions = 1;
	HASH_ADD(hh_port, d.by_port, port, sizeof s.port, &s);
	n_ready = n_arrived = n_killed = 0;
	write_procfs(lines);
	for (int i = 0; i < ticks; i++)
		watch_tick(&d);
	HASH_CLEAR(hh_port, d.by_port);
}

static void pass(enum sstate st, const char *lines) { passes(st, lines, 2); }

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	/* only the client's own end, connecting (02 SYN_SENT): arrived, alive */
	pass(S_WAITING, LINE("0200007F:93B9", "0100007F:797A", "02"));
	CHECK_EQ(n_arrived, 1);
	CHECK_EQ(n_killed, 0);
	/* only the client's own end, established (01): alive */
	pass(S_ARRIVED, LINE("0200007F:93B9", "0100007F:797A", "01"));
	CHECK_EQ(n_killed, 0);
	/* the client's own end in TIME_WAIT (06) and nothing else: gone */
	pass(S_ARRIVED, LINE("0200007F:93B9", "0100007F:797A", "06"));
	CHECK_EQ(n_killed, 1);
	/* the server's end only, established: alive; in TIME_WAIT: gone */
	pass(S_ARRIVED, LINE("0100007F:797A", "0200007F:93B9", "01"));
	CHECK_EQ(n_killed, 0);
	pass(S_ARRIVED, LINE("0100007F:797A", "0200007F:93B9", "06"));
	CHECK_EQ(n_killed, 1);
	/* one pass without the client is not yet its end; two are */
	passes(S_ARRIVED, "", 1);
	CHECK_EQ(n_killed, 0);
	passes(S_ARRIVED, "", 2);
	CHECK_EQ(n_killed, 1);
	/* a stranger's own end (127.0.0.3): an intruder, killed */
	pass(S_WAITING, LINE("0300007F:93B9", "0100007F:797A", "02"));
	CHECK_EQ(n_arrived, 0);
	CHECK_EQ(n_killed, 1);
	/* the server's LISTEN while starting: ready */
	passes(S_LISTENING, LINE("00000000:797A", "00000000:0000", "0A"), 1);
	CHECK_EQ(n_ready, 1);
	char path[64];
	snprintf(path, sizeof path, "%s/tcp", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/tcp6", dir);
	unlink(path);
	rmdir(dir);
	return unit_done();
}

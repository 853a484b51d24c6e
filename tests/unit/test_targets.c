/* The client side's lookup (common/targets.c): which (address, port) pairs
 * a configuration makes ours, with literals, names and v4-mapped forms. */
#include <arpa/inet.h>
#include <string.h>
#include "unit.h"
#include "addr.h"
#include "config.h"
#include "targets.h"

static const char conf[] =
	"table \"t\" { file = \"/nonexistent/t.table\" ports = \"20000-20099\" }\n"
	"target \"a\" { host = { \"10.0.0.5\", \"::1\" } port = 22 rendezvous = 3000 table = \"t\" }\n"
	"target \"b\" { host = { \"localhost\" } port = 8080 rendezvous = 3001 table = \"t\" }\n"
	"target \"c\" { host = { \"10.0.0.5\" } port = 22 rendezvous = 3002 table = \"t\" }\n"
	"target \"d\" { host = { \"no-such-host.invalid\", \"10.9.9.9\" } port = 443 rendezvous = 3003 table = \"t\" }\n";

static const struct target *find(const struct target_set *ts, const char *addr, uint16_t port)
{
	struct ipaddr a;
	if (addr_parse(addr, &a) != 0)
		return NULL;
	return target_set_find(ts, &a, port);
}

static const struct target *find_sa(const struct target_set *ts, const struct sockaddr *sa,
				    socklen_t len)
{
	struct ipaddr a;
	uint16_t port;
	if (addr_from_sockaddr(sa, len, &a, &port) != 0)
		return NULL;
	return target_set_find(ts, &a, port);
}

static void test_lookup(void)
{
	struct config_errors errs = { 0 };
	struct config *c = config_parse_buf(conf, sizeof conf - 1, "test.conf", &errs);
	struct target_set ts;
	const struct target *t;
	size_t i;
	int dup = 0, unres = 0;

	CHECK(c != NULL);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			printf("# %s\n", errs.msgs[i]);
		return;
	}
	CHECK_EQ(target_set_build(&ts, c, &errs), 0);

	t = find(&ts, "10.0.0.5", 22);
	CHECK(t != NULL && strcmp(t->name, "a") == 0);      /* first claim wins */
	t = find(&ts, "::1", 22);
	CHECK(t != NULL && strcmp(t->name, "a") == 0);
	t = find(&ts, "::ffff:10.0.0.5", 22);                /* v4-mapped spelling */
	CHECK(t != NULL && strcmp(t->name, "a") == 0);
	t = find(&ts, "127.0.0.1", 8080);                    /* from "localhost" */
	CHECK(t != NULL && strcmp(t->name, "b") == 0);
	t = find(&ts, "10.9.9.9", 443);                      /* the resolvable half */
	CHECK(t != NULL && strcmp(t->name, "d") == 0);

	/* misses: other port, other address, port of another target */
	CHECK(find(&ts, "10.0.0.5", 23) == NULL);
	CHECK(find(&ts, "10.0.0.6", 22) == NULL);
	CHECK(find(&ts, "10.0.0.5", 8080) == NULL);
	CHECK(find(&ts, "::2", 22) == NULL);
	CHECK(find(&ts, "127.0.0.1", 22) == NULL);
	CHECK(find(&ts, "0.0.0.0", 0) == NULL);

	/* the port pre-filter has exactly the target ports */
	CHECK(ts.ports[22 >> 3] & (1u << (22 & 7)));
	CHECK(ts.ports[8080 >> 3] & (1u << (8080 & 7)));
	CHECK(!(ts.ports[23 >> 3] & (1u << (23 & 7))));

	/* straight from sockaddrs, as the shim sees them */
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(22) };
	inet_pton(AF_INET, "10.0.0.5", &in.sin_addr);
	CHECK(find_sa(&ts, (struct sockaddr *)&in, sizeof in) != NULL);
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(22) };
	inet_pton(AF_INET6, "::ffff:10.0.0.5", &in6.sin6_addr);
	CHECK(find_sa(&ts, (struct sockaddr *)&in6, sizeof in6) != NULL);
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	CHECK(find_sa(&ts, (struct sockaddr *)&in6, sizeof in6) != NULL);
	in6.sin6_port = htons(2222);
	CHECK(find_sa(&ts, (struct sockaddr *)&in6, sizeof in6) == NULL);

	/* reported: the duplicate pair (c) and the unresolvable name (d) */
	for (i = 0; i < errs.n; i++) {
		printf("# %s\n", errs.msgs[i]);
		dup += strstr(errs.msgs[i], "target \"c\"") != NULL &&
		       strstr(errs.msgs[i], "already target \"a\"") != NULL;
		unres += strstr(errs.msgs[i], "no-such-host.invalid") != NULL;
	}
	CHECK_EQ(dup, 1);
	CHECK_EQ(unres, 1);
	config_errors_free(&errs);
	target_set_free(&ts);
	CHECK(ts.hash == NULL && ts.conf == NULL);
}

static void test_empty(void)
{
	struct target_set ts;
	struct ipaddr a;

	CHECK_EQ(target_set_build(&ts, NULL, NULL), 0);
	CHECK_EQ(addr_parse("127.0.0.1", &a), 0);
	CHECK(target_set_find(&ts, &a, 22) == NULL);
	target_set_free(&ts);
}

int main(void)
{
	test_lookup();
	test_empty();
	return unit_done();
}

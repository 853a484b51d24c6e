/* Configuration parsing: SPEC section 7's example, defaults, every
 * validation error with file and line. */
#include <stdlib.h>
#include "unit.h"
#include "config.h"

static const char *spec_example =
	"table \"ssh\" { file = \"/etc/scramble/ssh.table\"  ports = \"1024-65535\" }\n"
	"\n"
	"service \"ssh\" {                       # server side\n"
	"  listen = { \"0.0.0.0:3000\", \"[::]:3000\" }\n"
	"  table = \"ssh\"\n"
	"  offsets = { \"hour\", \"client-octet\" }\n"
	"  mode = \"exec\"\n"
	"  command = \"/usr/sbin/sshd -D -e -p %p\"\n"
	"  connect_timeout = 60\n"
	"  login_log = \"/var/log/auth.log\"\n"
	"  login_match = \"Accepted .* from %a port\"\n"
	"  allow = { \"10.0.0.0/8\" }\n"
	"  max_pending = 16\n"
	"  per_source = 4\n"
	"}\n"
	"\n"
	"target \"ssh-prod\" {                   # client side\n"
	"  host = { \"db.example.com\", \"10.0.0.5\" }\n"
	"  port = 22\n"
	"  rendezvous = 3000\n"
	"  table = \"ssh\"\n"
	"  offsets = { \"hour\", \"client-octet\" }\n"
	"  timeout = 5\n"
	"}\n";

static struct config *parse(const char *text, struct config_errors *e)
{
	return config_parse_buf(text, strlen(text), "s.conf", e);
}

static void test_spec_example(void)
{
	struct config_errors e = { 0 };
	struct config *c = parse(spec_example, &e);
	CHECK(c != NULL);
	CHECK_EQ(e.n, 0);
	if (!c)
		return;
	CHECK_EQ(c->ntables, 1);
	CHECK_EQ(c->tables[0].range.lo, 1024);
	CHECK_STR(c->tables[0].file, "/etc/scramble/ssh.table");
	CHECK_EQ(c->nservices, 1);
	struct service *s = config_find_service(c, "ssh");
	CHECK(s != NULL);
	CHECK_EQ(s->nlisten, 2);
	CHECK_EQ(s->listen[1].ss.ss_family, AF_INET6);
	CHECK(s->table == &c->tables[0]);
	CHECK_EQ(s->offsets, SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET);
	CHECK_EQ(s->mode, MODE_EXEC);
	CHECK_STR(s->command, "/usr/sbin/sshd -D -e -p %p");
	CHECK_EQ(s->connect_timeout, 60);
	CHECK_EQ(s->start_timeout, 5);       /* defaults */
	CHECK_EQ(s->login_timeout, 30);
	CHECK_EQ(s->guard, 2);
	CHECK_EQ(s->kill_grace, 2);
	CHECK_EQ(s->poll_ms, 200);
	CHECK_EQ(s->rate_count, 5);
	CHECK_EQ(s->rate_window, 10);
	CHECK_EQ(s->deny_time, 60);
	CHECK_EQ(s->watch, WATCH_PROCFS);
	CHECK_EQ(s->nallow, 1);
	CHECK_EQ(s->max_pending, 16);
	CHECK_EQ(s->per_source, 4);
	CHECK(s->user == NULL);
	CHECK_EQ(s->nenv, 0);
	CHECK_EQ(c->ntargets, 1);
	CHECK_EQ(c->targets[0].nhosts, 2);
	CHECK_STR(c->targets[0].hosts[0], "db.example.com");
	CHECK_EQ(c->targets[0].port, 22);
	CHECK_EQ(c->targets[0].rendezvous, 3000);
	CHECK_EQ(c->targets[0].timeout, 5);
	CHECK(config_find_service(c, "nope") == NULL);
	config_free(c);
}

/* text must fail with an error containing want */
static void expect(const char *text, const char *want)
{
	struct config_errors e = { 0 };
	struct config *c = parse(text, &e);
	CHECK(c == NULL);
	int found = 0;
	for (size_t i = 0; i < e.n; i++)
		found |= strstr(e.msgs[i], want) != NULL;
	CHECK(found);
	if (!found) {
		printf("#   wanted: %s\n", want);
		for (size_t i = 0; i < e.n; i++)
			printf("#   got:    %s\n", e.msgs[i]);
	}
	config_errors_free(&e);
	config_free(c);
}

#define T "table \"t\" { file = \"/x\" }\n"

static void test_errors(void)
{
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n mode = \"fork\"\n command = \"x\"\n}\n",
	       "s.conf:5: service \"s\": unknown mode \"fork\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\", \"300.0.0.1:5\" }\n table = \"t\"\n command = \"x\"\n}\n",
	       "s.conf:3: service \"s\": bad listen address \"300.0.0.1:5\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:70000\" }\n table = \"t\"\n command = \"x\"\n}\n",
	       "bad listen address \"127.0.0.1:70000\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n allow = {\n \"10.0.0.0/8\",\n \"10.0.0.1/8\" }\n}\n",
	       "s.conf:8: service \"s\": bad CIDR \"10.0.0.1/8\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"nope\"\n command = \"x\"\n}\n",
	       "s.conf:4: service \"s\": unknown table \"nope\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n}\n",
	       "s.conf:2: service \"s\": mode exec needs a command");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n mode = \"forward\"\n}\n",
	       "mode forward needs a backend");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n mode = \"embedded\"\n backend = \"127.0.0.1:5\"\n}\n",
	       "s.conf:2: service \"s\": mode embedded takes no command and no backend");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x %s\"\n}\n",
	       "s.conf:5: service \"s\": command may use only %p, %a and %%");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n offsets = { \"minute\" }\n}\n",
	       "s.conf:6: service \"s\": unknown offset \"minute\"");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n connect_timeout = -5\n}\n",
	       "s.conf:6: service \"s\": connect_timeout = -5 is out of range");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n rate = \"lots\"\n}\n",
	       "rate = \"lots\" is not");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n login_log = \"-\"\n}\n",
	       "login_log and login_match go together");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n login_log = \"-\"\n login_match = \"(\"\n}\n",
	       "login_match is not a valid extended regular expression");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n login_log = \"-\"\n login_match = \"x5+++++++++++++++++++++++++ from %a\"\n}\n",
	       "s.conf:7: service \"s\": login_match stacks repetition operators");
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n login_log = \"-\"\n login_match = \"((a{1,99}){1,99}){1,99}\"\n}\n",
	       "login_match uses a bounded repetition");
	{
		struct config_errors ok = { 0 };
		struct config *c = parse(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n login_log = \"-\"\n login_match = \"Accepted [^ +*]+ for .* from %a port [0-9]+\"\n}\n", &ok);
		CHECK(c != NULL);
		CHECK_EQ(ok.n, 0);
		config_free(c);
		config_errors_free(&ok);
	}
	expect(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n command = \"x\"\n env = { \"NOEQUALS\" }\n}\n",
	       "env entry \"NOEQUALS\" is not NAME=VALUE");
	expect(T "service \"s\" {\n table = \"t\"\n command = \"x\"\n}\n", "no listen address given");
	expect(T "target \"c\" {\n host = { \"h\" }\n port = 99999\n rendezvous = 3000\n table = \"t\"\n}\n",
	       "s.conf:4: target \"c\": port = 99999 is out of range");
	expect(T "target \"c\" {\n host = { \"h\" }\n rendezvous = 3000\n table = \"t\"\n}\n", "target \"c\": no port given");
	expect(T "target \"c\" {\n host = { \"h\" }\n port = 22\n table = \"t\"\n}\n", "no rendezvous port given");
	expect("table \"t\" { file = \"/x\" ports = \"5-1\" }\n", "s.conf:1: table \"t\": ports = \"5-1\" is not a range");
	expect("table \"t\" { ports = \"1-5\" }\n", "table \"t\": no file given");
	/* syntax errors reported by libconfuse, with the file name */
	expect("service \"s\" {\n listen = { \"127.0.0.1:1\" }\n bogus = 1\n}\n", "s.conf:3: no such option 'bogus'");
	expect("table \"t\" { file = \"/x\" \n", "s.conf:");
	expect(T T, "s.conf:");
	expect("service \"s\" {\n connect_timeout = abc\n}\n", "s.conf:2:");
	struct config_errors e = { 0 };
	CHECK(config_parse_buf("a\0b", 3, "nul.conf", &e) == NULL);
	CHECK(e.n == 1 && strstr(e.msgs[0], "NUL") != NULL);
	config_errors_free(&e);
}

/* libconfuse's own syntax errors name the right line after comments of
 * every kind (it counted a # line as three); strings that hold comment
 * characters are left alone */
static void test_comment_lines(void)
{
	expect("# one\n// two\n/* three\n four */\n" T "service \"s\" { listen = = 1 }\n",
	       "s.conf:6: unexpected token");
	struct config_errors e = { 0 };
	struct config *c = parse("table \"t\" { file = \"/x#y//z/*w*/\" } # end\n", &e);
	CHECK(c != NULL);
	if (c)
		CHECK_STR(c->tables[0].file, "/x#y//z/*w*/");
	config_errors_free(&e);
	config_free(c);
}

/* mode = "embedded": no command needed, auth allowed, the name says so */
static void test_embedded(void)
{
	struct config_errors e = { 0 };
	struct config *c = parse(T "service \"s\" {\n listen = { \"127.0.0.1:1\" }\n table = \"t\"\n"
				 " mode = \"embedded\"\n auth = yes\n key = \"/k\"\n}\n", &e);
	CHECK(c != NULL);
	CHECK_EQ(e.n, 0);
	if (c) {
		CHECK_EQ(c->services[0].mode, MODE_EMBEDDED);
		CHECK_STR(mode_name(c->services[0].mode), "embedded");
		CHECK(c->services[0].command == NULL);
	}
	config_errors_free(&e);
	config_free(c);
}

static void test_all_errors_reported(void)
{
	struct config_errors e = { 0 };
	const char *text = T "service \"s\" {\n listen = { \"bad\" }\n table = \"nope\"\n mode = \"x\"\n}\n"
			   "target \"c\" {\n host = { \"h\" }\n port = 0\n rendezvous = 3000\n table = \"t\"\n}\n";
	CHECK(parse(text, &e) == NULL);
	CHECK(e.n >= 4);
	config_errors_free(&e);
}

static void test_load_file(void)
{
	struct config_errors e = { 0 };
	CHECK(config_load("/nonexistent/scramble.conf", &e) == NULL);
	CHECK(e.n == 1 && strstr(e.msgs[0], "/nonexistent/scramble.conf: No such file") != NULL);
	config_errors_free(&e);
	/* a table referenced but unreadable is reported with the config line */
	struct config *c = parse(T "target \"c\" {\n host = { \"h\" }\n port = 22\n rendezvous = 3000\n table = \"t\"\n}\n", &e);
	CHECK(c != NULL);
	CHECK_EQ(config_load_tables(c, CONF_SIDE_CLIENT, &e), -1);
	CHECK(e.n == 1 && strstr(e.msgs[0], "/x: No such file") && strstr(e.msgs[0], "s.conf:1"));
	config_errors_free(&e);
	/* the server side does not use it: nothing to load */
	CHECK_EQ(config_load_tables(c, CONF_SIDE_SERVER, &e), 0);
	config_free(c);
}

int main(void)
{
	test_spec_example();
	test_errors();
	test_embedded();
	test_comment_lines();
	test_all_errors_reported();
	test_load_file();
	return unit_done();
}

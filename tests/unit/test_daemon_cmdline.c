/* Unit tests: exec-mode command splitting and %-expansion (daemon/cmdline.c). */
#include "../../daemon/cmdline.c"
#include "unit.h"

static char **ex(const char *cmd, char *err)
{
	return cmd_expand(cmd, 31017, "127.0.0.1", err, 256);
}

int main(void)
{
	char err[256];
	char **v = ex("/usr/sbin/sshd -D -e -p %p", err);
	CHECK(v != NULL);
	if (v) {
		CHECK_STR(v[0], "/usr/sbin/sshd");
		CHECK_STR(v[3], "-p");
		CHECK_STR(v[4], "31017");
		CHECK(v[5] == NULL);
		cmd_free(v);
	}
	v = ex("/bin/x --from=%a --pct=100%% 'a b' \"c \\\"d\\\"\" e\\ f", err);
	CHECK(v != NULL);
	if (v) {
		CHECK_STR(v[1], "--from=127.0.0.1");
		CHECK_STR(v[2], "--pct=100%");
		CHECK_STR(v[3], "a b");
		CHECK_STR(v[4], "c \"d\"");
		CHECK_STR(v[5], "e f");
		CHECK(v[6] == NULL);
		cmd_free(v);
	}
	/* %% then p is a literal "%p", not the port */
	v = ex("/bin/x %%p '%p'", err);
	CHECK(v != NULL);
	if (v) {
		CHECK_STR(v[1], "%p");
		CHECK_STR(v[2], "31017");   /* quotes do not protect from expansion */
		cmd_free(v);
	}
	/* blanks: leading, trailing, repeated, tabs */
	v = ex("  /bin/x\t\ta   b  ", err);
	CHECK(v != NULL);
	if (v) {
		CHECK_STR(v[1], "a");
		CHECK_STR(v[2], "b");
		CHECK(v[3] == NULL);
		cmd_free(v);
	}
	CHECK(ex("/bin/x %q", err) == NULL);
	CHECK(strstr(err, "%q") != NULL);
	CHECK(ex("/bin/x 50%", err) == NULL);
	CHECK(ex("/bin/x 'open", err) == NULL);
	CHECK(strstr(err, "unterminated") != NULL);
	CHECK(ex("/bin/x \"open", err) == NULL);
	CHECK(ex("", err) == NULL);
	CHECK(ex("   ", err) == NULL);
	CHECK(strstr(err, "empty") != NULL);
	CHECK(cmd_split(NULL, err, sizeof err) == NULL);

	CHECK_EQ(cmd_check("/usr/sbin/sshd -D -p %p", err, sizeof err), 0);
	CHECK_EQ(cmd_check("sshd -D -p %p", err, sizeof err), -1);
	CHECK(strstr(err, "absolute") != NULL);
	CHECK_EQ(cmd_check("/bin/x %z", err, sizeof err), -1);
	/* a shell metacharacter is just a byte: no shell is involved */
	v = ex("/bin/echo ;rm -rf / $(id) `id` > x", err);
	CHECK(v != NULL);
	if (v) {
		CHECK_STR(v[1], ";rm");
		CHECK_STR(v[4], "$(id)");
		CHECK_STR(v[6], ">");
		cmd_free(v);
	}
	return unit_done();
}

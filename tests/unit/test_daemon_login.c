/* Unit tests: login_match patterns against recorded sshd log lines
 * (daemon/loginmatch.c). */
#include "../../daemon/loginmatch.c"
#include "unit.h"

static const char *lines[] = {
	/* syslog (auth.log), OpenSSH 9 */
	"Nov 26 05:12:01 bastion sshd[4242]: Accepted publickey for root from 127.0.0.1 port 50122 ssh2: ED25519 SHA256:Yf3kq1H0rYpA0n9mQ2Cq8Zl4b0JrW1v9Xx2o7Tn4p5s",
	"Nov 26 05:12:09 bastion sshd[4250]: Accepted password for alice from 10.0.0.5 port 41022 ssh2",
	"Nov 26 05:12:11 bastion sshd[4251]: Failed password for root from 127.0.0.1 port 50130 ssh2",
	"Nov 26 05:12:13 bastion sshd[4252]: Accepted publickey for bob from 127.0.0.10 port 50200 ssh2: RSA SHA256:abc",
	"Nov 26 05:12:15 bastion sshd[4253]: Accepted keyboard-interactive/pam for carol from 2001:db8::7 port 6000 ssh2",
	/* sshd -e (stderr), no syslog prefix */
	"Accepted publickey for root from 127.0.0.1 port 50122 ssh2: ED25519 SHA256:Yf3kq1H0rYpA0n9mQ2Cq8Zl4b0JrW1v9Xx2o7Tn4p5s",
	"Connection closed by authenticating user root 127.0.0.1 port 50140 [preauth]",
	"Nov 26 05:12:17 bastion sshd[4254]: Accepted publickey for root from 127x0x0x1 port 1 ssh2",
};

static bool m(const char *match, const char *addr, int line)
{
	regex_t re;
	char err[256];
	if (login_compile(&re, match, addr, err, sizeof err) < 0) {
		printf("# %s\n", err);
		return false;
	}
	bool r = login_line_matches(&re, lines[line], strlen(lines[line]));
	regfree(&re);
	return r;
}

int main(void)
{
	const char *M = "Accepted [a-z/-]+ for .* from %a port";
	CHECK(m(M, "127.0.0.1", 0));
	CHECK(m(M, "127.0.0.1", 5));        /* sshd -e */
	CHECK(!m(M, "127.0.0.1", 1));       /* another address */
	CHECK(m(M, "10.0.0.5", 1));
	CHECK(!m(M, "127.0.0.1", 2));       /* failed, not accepted */
	CHECK(!m(M, "127.0.0.1", 3));       /* 127.0.0.10 is not 127.0.0.1 */
	CHECK(m(M, "127.0.0.10", 3));
	CHECK(m(M, "2001:db8::7", 4));
	CHECK(!m(M, "127.0.0.1", 6));
	CHECK(!m(M, "127.0.0.1", 7));       /* the dots are escaped */

	char out[256], err[256];
	CHECK_EQ(login_pattern("from %a port %%d", "1.2.3.4", out, sizeof out, err, sizeof err), 0);
	CHECK_STR(out, "from 1\\.2\\.3\\.4 port %d");
	CHECK_EQ(login_pattern("from %x", "1.2.3.4", out, sizeof out, err, sizeof err), -1);
	CHECK_EQ(login_pattern("from %", "1.2.3.4", out, sizeof out, err, sizeof err), -1);
	CHECK_EQ(login_pattern("0123456789", "1.2.3.4", out, 5, err, sizeof err), -1);
	CHECK_EQ(login_check("Accepted .* from %a port", err, sizeof err), 0);
	CHECK_EQ(login_check("Accepted (", err, sizeof err), -1);
	CHECK(strstr(err, "regular expression") != NULL);
	return unit_done();
}

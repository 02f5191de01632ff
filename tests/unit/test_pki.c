/* Unit tests of src/pki.c: the PKI phase 2 writes, read back with OpenSSL
 * and checked against what the answers ask for. */
#include "config.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testlib.h"
#include "pki.h"
#include "spec.h"

/* --- helpers --- */

struct fixture {
	char *dir;
	struct ku_spec *spec;
	struct ku_pki *pki;
	struct ku_pki_report rep;
};

static void
fx_open(struct fixture *fx, size_t n_nodes, enum ku_key_type kt)
{
	memset(fx, 0, sizeof *fx);
	fx->dir = tl_mkdtemp("pki");
	fx->spec = tl_spec(n_nodes);
	fx->spec->key_type = kt;
	fx->pki = ku_pki_new(fx->spec, fx->dir);
}

/* A new context, as a new run makes one, after the spec changed. */
static void
fx_rerun(struct fixture *fx)
{
	ku_pki_free(fx->pki);
	ku_pki_report_free(&fx->rep);
	memset(&fx->rep, 0, sizeof fx->rep);
	fx->pki = ku_pki_new(fx->spec, fx->dir);
}

static void
fx_close(struct fixture *fx)
{
	ku_pki_free(fx->pki);
	ku_pki_report_free(&fx->rep);
	ku_spec_free(fx->spec);
	tl_rmtree(fx->dir);
	free(fx->dir);
}

static void
fx_generate(struct fixture *fx)
{
	char *err = NULL;
	ku_rc rc = ku_pki_generate(fx->pki, &fx->rep, &err);

	if (rc != KU_OK)
		fail_msg("ku_pki_generate: %s", err ? err : "?");
	free(err);
}

static void
fx_check_ok(struct fixture *fx)
{
	struct ku_strv problems = { 0 };
	ku_rc rc = ku_pki_check(fx->pki, &problems);

	for (size_t i = 0; i < problems.n; i++)
		print_error("problem: %s\n", problems.v[i]);
	assert_int_equal(rc, KU_OK);
	assert_int_equal(problems.n, 0);
	ku_strv_free(&problems);
}

/* The problems ku_pki_check finds, joined with newlines. */
static char *
fx_check_fails(struct fixture *fx)
{
	struct ku_strv problems = { 0 };
	ku_rc rc = ku_pki_check(fx->pki, &problems);
	char *all;

	assert_int_equal(rc, KU_ERR_CHECK);
	assert_true(problems.n > 0);
	all = ku_strjoin((const char *const *)problems.v, problems.n, "\n");
	ku_strv_free(&problems);
	return all;
}

static char *
fx_path(const struct fixture *fx, const char *rel)
{
	return ku_path_join(fx->dir, rel);
}

static X509 *
load_cert(const struct fixture *fx, const char *rel)
{
	char *path = fx_path(fx, rel);
	FILE *f = fopen(path, "r");
	X509 *c;

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (c == NULL)
		fail_msg("%s: not a certificate", path);
	free(path);
	return c;
}

static EVP_PKEY *
load_key(const struct fixture *fx, const char *rel)
{
	char *path = fx_path(fx, rel);
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		fail_msg("%s: not a key", path);
	free(path);
	return k;
}

static void
write_cert(const struct fixture *fx, const char *rel, X509 *c)
{
	char *path = fx_path(fx, rel);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, c), 1);
	fclose(f);
	free(path);
}

static void
copy_file(const char *from, const char *to)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(from, 0, &b), KU_OK);
	assert_int_equal(ku_write_file_atomic(to, b.data, b.len, 0600), KU_OK);
	ku_buf_free(&b);
}

static bool
has(const struct ku_strv *sv, const char *s)
{
	return ku_strv_contains(sv, s);
}

/* The SANs of a certificate as "DNS:x" / "IP:y" (OpenSSL's own text). */
static void
cert_sans(X509 *c, struct ku_strv *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL,
	    NULL);

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char text[INET6_ADDRSTRLEN];
		const ASN1_STRING *s;

		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			ku_strv_push_owned(out, xasprintf("DNS:%.*s",
			    ASN1_STRING_length(s), ASN1_STRING_get0_data(s)));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			assert_non_null(inet_ntop(ASN1_STRING_length(s) == 4 ?
			    AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text,
			    sizeof text));
			ku_strv_push_owned(out, xasprintf("IP:%s", text));
		}
	}
	GENERAL_NAMES_free(gens);
}

static void
assert_sans(const struct fixture *fx, const char *rel,
    const char *const *want, size_t n)
{
	X509 *c = load_cert(fx, rel);
	struct ku_strv have = { 0 };

	cert_sans(c, &have);
	for (size_t i = 0; i < n; i++)
		if (!has(&have, want[i]))
			fail_msg("%s lacks %s", rel, want[i]);
	if (have.n != n) {
		char *all = ku_strjoin((const char *const *)have.v, have.n, " ");
		fail_msg("%s has %zu names, not %zu: %s", rel, have.n, n, all);
	}
	ku_strv_free(&have);
	X509_free(c);
}

/* Every regular file under the state directory with its mode and
 * modification time, "rel mode sec.nsec" a line, sorted. */
static struct ku_strv *walk_out;
static const char *walk_base;

static int
walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_F)
		ku_strv_push_owned(walk_out, xasprintf("%s %o %ld.%09ld",
		    path + strlen(walk_base) + 1, (unsigned)(st->st_mode & 07777),
		    (long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec));
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
snapshot(const struct fixture *fx, struct ku_strv *out)
{
	walk_out = out;
	walk_base = fx->dir;
	assert_int_equal(nftw(fx->dir, walk_one, 16, FTW_PHYS), 0);
	qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

/* --- the service IP --- */

static void
test_service_ip(void **state)
{
	static const struct { const char *cidr, *ip; } ok[] = {
		{ "10.96.0.0/12", "10.96.0.1" },
		{ "10.96.0.0/16", "10.96.0.1" },
		{ "172.16.0.0/28", "172.16.0.1" },
		{ "192.168.7.0/24", "192.168.7.1" },
		{ "10.0.0.254/31", "10.0.0.255" },     /* the /31 edge */
		{ "10.96.3.7/12", "10.96.0.1" },       /* host bits masked */
		{ "fd00:10:96::/108", "fd00:10:96::1" },
		{ "2001:db8::/64", "2001:db8::1" },
		{ "2001:db8::fffe/127", "2001:db8::ffff" },
	};
	static const char *const bad[] = {
		"10.0.0.1/32", "2001:db8::/128", "10.96.0.0", "10.96.0.0/33",
		"not-a-cidr/12", "", "fd00::/129",
	};
	char ip[64];

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(ok); i++) {
		if (!ku_pki_service_ip(ok[i].cidr, ip, sizeof ip))
			fail_msg("%s: no service IP", ok[i].cidr);
		assert_string_equal(ip, ok[i].ip);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++)
		if (ku_pki_service_ip(bad[i], ip, sizeof ip))
			fail_msg("%s: service IP %s, expected none", bad[i], ip);
}

/* --- what a fresh run writes --- */

static const char *const ku_leaf_files[] = {
	"pki/apiserver", "pki/apiserver-kubelet-client",
	"pki/apiserver-etcd-client", "pki/etcd/server", "pki/etcd/peer",
	"pki/etcd/healthcheck-client", "pki/front-proxy-client",
	"pki/nodes/master/kubelet-client", "pki/nodes/master/kubelet",
	"pki/nodes/node-1/kubelet-client", "pki/nodes/node-1/kubelet",
	"pki/nodes/node-2/kubelet-client", "pki/nodes/node-2/kubelet",
};
static const char *const ku_ca_files[] = {
	"pki/ca", "pki/etcd/ca", "pki/front-proxy-ca",
};
static const char *const ku_conf_files[] = {
	"kubeconfig/admin.conf", "kubeconfig/super-admin.conf",
	"kubeconfig/controller-manager.conf", "kubeconfig/scheduler.conf",
	"kubeconfig/kube-proxy.conf", "kubeconfig/kubelet/master.conf",
	"kubeconfig/kubelet/node-1.conf", "kubeconfig/kubelet/node-2.conf",
};

static void
assert_mode(const struct fixture *fx, const char *rel, unsigned mode)
{
	char *path = fx_path(fx, rel);
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("%s: %s", rel, strerror(errno));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, expected %o", rel,
		    (unsigned)(st.st_mode & 07777), mode);
	free(path);
}

static void
test_layout_and_modes(void **state)
{
	struct fixture fx;
	char *rel;

	(void)state;
	fx_open(&fx, 2, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	assert_int_equal(fx.rep.warnings.n, 0);
	static const char *const dirs[] = {
		"pki", "pki/etcd", "pki/nodes", "pki/nodes/master",
		"pki/nodes/node-2", "kubeconfig", "kubeconfig/kubelet",
	};
	for (size_t i = 0; i < KU_ARRAY_LEN(dirs); i++)
		assert_mode(&fx, dirs[i], 0700);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_leaf_files) +
	    KU_ARRAY_LEN(ku_ca_files); i++) {
		const char *f = i < KU_ARRAY_LEN(ku_leaf_files) ?
		    ku_leaf_files[i] :
		    ku_ca_files[i - KU_ARRAY_LEN(ku_leaf_files)];
		rel = xasprintf("%s.crt", f);
		assert_mode(&fx, rel, 0644);
		free(rel);
		rel = xasprintf("%s.key", f);
		assert_mode(&fx, rel, 0600);
		free(rel);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_conf_files); i++)
		assert_mode(&fx, ku_conf_files[i], 0600);
	assert_mode(&fx, "pki/sa.key", 0600);
	assert_mode(&fx, "pki/sa.pub", 0644);
	assert_mode(&fx, "pki/encryption-config.yaml", 0600);
	/* Written: every file, once. */
	assert_int_equal(fx.rep.written.n, 2 * 16 + 8 + 3);
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* Serial numbers: positive, 159 bits, all different, also across two
 * runs with the same answers. */
static void
test_serials_unique(void **state)
{
	struct fixture a, b;
	struct ku_strv seen = { 0 };
	struct fixture *fxs[2] = { &a, &b };

	(void)state;
	fx_open(&a, 20, KU_KEY_ECDSA_P256);
	fx_open(&b, 20, KU_KEY_ECDSA_P256);
	fx_generate(&a);
	fx_generate(&b);
	for (int r = 0; r < 2; r++) {
		struct ku_strv *w = &fxs[r]->rep.written;
		for (size_t i = 0; i < w->n; i++) {
			X509 *c;
			BIGNUM *bn;
			char *hex;

			if (!ku_str_has_prefix(w->v[i] + strlen(w->v[i]) - 4,
			    ".crt"))
				continue;
			c = load_cert(fxs[r], w->v[i]);
			bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
			assert_non_null(bn);
			assert_false(BN_is_negative(bn));
			assert_int_equal(BN_num_bits(bn), 159);
			hex = BN_bn2hex(bn);
			if (has(&seen, hex))
				fail_msg("serial %s used twice", hex);
			ku_strv_push(&seen, hex);
			OPENSSL_free(hex);
			BN_free(bn);
			X509_free(c);
		}
	}
	assert_int_equal(seen.n, 2 * (3 + 7 + 2 * 21));
	ku_strv_free(&seen);
	fx_close(&a);
	fx_close(&b);
}

static void
test_sans(void **state)
{
	struct fixture fx;

	(void)state;
	fx_open(&fx, 2, KU_KEY_ECDSA_P256);
	free(fx.spec->service_cidr);
	fx.spec->service_cidr = xstrdup("10.100.0.0/16");
	free(fx.spec->dns_domain);
	fx.spec->dns_domain = xstrdup("corp.example");
	ku_strv_push(&fx.spec->api_sans, "api.example.com");
	ku_strv_push(&fx.spec->api_sans, "203.0.113.7");
	ku_strv_push(&fx.spec->api_sans, "127.0.0.10");   /* the master's */
	ku_strv_push(&fx.spec->api_sans, "*.lb.example.com");
	fx_generate(&fx);

	static const char *const api[] = {
		"DNS:master", "IP:127.0.0.10", "DNS:kubernetes",
		"DNS:kubernetes.default", "DNS:kubernetes.default.svc",
		"DNS:kubernetes.default.svc.corp.example", "IP:10.100.0.1",
		"IP:127.0.0.1", "DNS:api.example.com", "IP:203.0.113.7",
		"DNS:*.lb.example.com",
	};
	static const char *const etcd[] = {
		"DNS:master", "IP:127.0.0.10", "DNS:localhost", "IP:127.0.0.1",
		"IP:::1",
	};
	static const char *const kubelet[] = { "DNS:node-2", "IP:127.0.1.2" };
	static const char *const master_kubelet[] = {
		"DNS:master", "IP:127.0.0.10",
	};
	static const char *const none[] = { NULL };
	static const char *const clients[] = {
		"pki/apiserver-kubelet-client.crt",
		"pki/apiserver-etcd-client.crt",
		"pki/etcd/healthcheck-client.crt", "pki/front-proxy-client.crt",
		"pki/nodes/node-1/kubelet-client.crt", "pki/ca.crt",
	};

	assert_sans(&fx, "pki/apiserver.crt", api, KU_ARRAY_LEN(api));
	assert_sans(&fx, "pki/etcd/server.crt", etcd, KU_ARRAY_LEN(etcd));
	assert_sans(&fx, "pki/etcd/peer.crt", etcd, KU_ARRAY_LEN(etcd));
	assert_sans(&fx, "pki/nodes/node-2/kubelet.crt", kubelet,
	    KU_ARRAY_LEN(kubelet));
	assert_sans(&fx, "pki/nodes/master/kubelet.crt", master_kubelet,
	    KU_ARRAY_LEN(master_kubelet));
	for (size_t i = 0; i < KU_ARRAY_LEN(clients); i++)
		assert_sans(&fx, clients[i], none, 0);
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* IPv6 everywhere: the service IP, the SANs, the kubeconfig's server. */
static void
test_ipv6(void **state)
{
	struct fixture fx;
	struct ku_buf b;
	char *path;

	(void)state;
	fx_open(&fx, 1, KU_KEY_ECDSA_P256);
	free(fx.spec->master.address);
	fx.spec->master.address = xstrdup("fd00::10");
	free(fx.spec->nodes[0].address);
	fx.spec->nodes[0].address = xstrdup("fd00:0:0::11");
	free(fx.spec->service_cidr);
	fx.spec->service_cidr = xstrdup("fd00:10:96::/108");
	fx_generate(&fx);
	static const char *const api[] = {
		"DNS:master", "IP:fd00::10", "DNS:kubernetes",
		"DNS:kubernetes.default", "DNS:kubernetes.default.svc",
		"DNS:kubernetes.default.svc.cluster.local", "IP:fd00:10:96::1",
		"IP:127.0.0.1",
	};
	static const char *const kubelet[] = { "DNS:node-1", "IP:fd00::11" };
	assert_sans(&fx, "pki/apiserver.crt", api, KU_ARRAY_LEN(api));
	assert_sans(&fx, "pki/nodes/node-1/kubelet.crt", kubelet,
	    KU_ARRAY_LEN(kubelet));
	path = fx_path(&fx, "kubeconfig/admin.conf");
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_non_null(strstr(b.data, "    server: https://[fd00::10]:6443\n"));
	ku_buf_free(&b);
	free(path);
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* Subjects, usages, CA flags, signers: the table a reviewer checks. */
static void
test_usages_and_ca_flags(void **state)
{
	static const struct {
		const char *file, *subject, *issuer;
		uint32_t xku;    /* 0: a CA */
	} table[] = {
		{ "pki/ca.crt", "CN=kubernetes", "CN=kubernetes", 0 },
		{ "pki/etcd/ca.crt", "CN=etcd-ca", "CN=etcd-ca", 0 },
		{ "pki/front-proxy-ca.crt", "CN=front-proxy-ca",
		  "CN=front-proxy-ca", 0 },
		{ "pki/apiserver.crt", "CN=kube-apiserver", "CN=kubernetes",
		  XKU_SSL_SERVER },
		{ "pki/apiserver-kubelet-client.crt",
		  "O=kubeadm:cluster-admins,CN=kube-apiserver-kubelet-client",
		  "CN=kubernetes", XKU_SSL_CLIENT },
		{ "pki/apiserver-etcd-client.crt",
		  "CN=kube-apiserver-etcd-client", "CN=etcd-ca",
		  XKU_SSL_CLIENT },
		{ "pki/etcd/server.crt", "CN=master", "CN=etcd-ca",
		  XKU_SSL_SERVER | XKU_SSL_CLIENT },
		{ "pki/etcd/peer.crt", "CN=master", "CN=etcd-ca",
		  XKU_SSL_SERVER | XKU_SSL_CLIENT },
		{ "pki/etcd/healthcheck-client.crt",
		  "CN=kube-etcd-healthcheck-client", "CN=etcd-ca",
		  XKU_SSL_CLIENT },
		{ "pki/front-proxy-client.crt", "CN=front-proxy-client",
		  "CN=front-proxy-ca", XKU_SSL_CLIENT },
		{ "pki/nodes/node-1/kubelet-client.crt",
		  "O=system:nodes,CN=system:node:node-1", "CN=kubernetes",
		  XKU_SSL_CLIENT },
		{ "pki/nodes/node-1/kubelet.crt",
		  "O=system:nodes,CN=system:node:node-1", "CN=kubernetes",
		  XKU_SSL_SERVER },
	};
	struct fixture fx;

	(void)state;
	fx_open(&fx, 1, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	for (size_t i = 0; i < KU_ARRAY_LEN(table); i++) {
		X509 *c = load_cert(&fx, table[i].file);
		char sub[256], iss[256];
		BIO *b = BIO_new(BIO_s_mem());
		int n;
		bool ca = table[i].xku == 0;
		uint32_t ku = X509_get_key_usage(c);

		n = X509_NAME_print_ex(b, X509_get_subject_name(c), 0,
		    XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV);
		assert_true(n > 0);
		n = BIO_read(b, sub, sizeof sub - 1);
		sub[n > 0 ? n : 0] = '\0';
		X509_NAME_print_ex(b, X509_get_issuer_name(c), 0,
		    XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV);
		n = BIO_read(b, iss, sizeof iss - 1);
		iss[n > 0 ? n : 0] = '\0';
		BIO_free(b);
		if (strcmp(sub, table[i].subject) != 0)
			fail_msg("%s: subject %s", table[i].file, sub);
		if (strcmp(iss, table[i].issuer) != 0)
			fail_msg("%s: issuer %s", table[i].file, iss);
		assert_int_equal(X509_get_version(c), X509_VERSION_3);
		assert_non_null(X509_get0_subject_key_id(c));
		assert_non_null(X509_get0_authority_key_id(c));
		if (ca) {
			assert_int_equal(X509_check_ca(c), 1);
			assert_true(ku & KU_KEY_CERT_SIGN);
			assert_true(ku & KU_CRL_SIGN);
			assert_true(ku & KU_DIGITAL_SIGNATURE);
		} else {
			if (X509_get_extension_flags(c) & EXFLAG_CA)
				fail_msg("%s: a leaf with CA:TRUE",
				    table[i].file);
			assert_int_equal(X509_check_ca(c), 0);
			assert_false(ku & KU_KEY_CERT_SIGN);
			assert_false(ku & KU_CRL_SIGN);
			assert_true(ku & KU_DIGITAL_SIGNATURE);
			assert_int_equal(X509_get_extended_key_usage(c),
			    table[i].xku);
		}
		/* basicConstraints is critical in every certificate. */
		{
			int loc = X509_get_ext_by_NID(c, NID_basic_constraints,
			    -1);
			assert_true(loc >= 0);
			assert_int_equal(X509_EXTENSION_get_critical(
			    X509_get_ext(c, loc)), 1);
			loc = X509_get_ext_by_NID(c, NID_key_usage, -1);
			assert_true(loc >= 0);
			assert_int_equal(X509_EXTENSION_get_critical(
			    X509_get_ext(c, loc)), 1);
		}
		X509_free(c);
	}
	fx_close(&fx);
}

/* notBefore 5 minutes back; CAs 10 years, leaves 1 year, a leaf never
 * after its CA. */
static void
test_validity(void **state)
{
	struct fixture fx;
	time_t now = time(NULL);
	struct tm tm;
	time_t ca_end, leaf_end;
	X509 *ca, *leaf;
	int day, sec;

	(void)state;
	fx_open(&fx, 0, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	gmtime_r(&now, &tm);
	tm.tm_year += 10;
	ca_end = timegm(&tm);
	gmtime_r(&now, &tm);
	tm.tm_year += 1;
	leaf_end = timegm(&tm);
	ca = load_cert(&fx, "pki/ca.crt");
	leaf = load_cert(&fx, "pki/apiserver.crt");
	for (int i = 0; i < 2; i++) {
		X509 *c = i ? leaf : ca;
		time_t end = i ? leaf_end : ca_end;
		time_t start = now - 300;

		assert_int_equal(ASN1_TIME_diff(&day, &sec, NULL,
		    X509_get0_notBefore(c)), 1);
		/* A minute of slack either way for a slow machine. */
		assert_int_equal(day, 0);
		assert_in_range(sec, -300 - 60, -300 + 60);
		(void)start;
		assert_true(X509_cmp_time(X509_get0_notAfter(c), &(time_t){
		    end - 60 }) > 0);
		assert_true(X509_cmp_time(X509_get0_notAfter(c), &(time_t){
		    end + 60 }) < 0);
	}
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(leaf),
	    X509_get0_notAfter(ca)) < 0);
	X509_free(ca);
	X509_free(leaf);
	fx_close(&fx);
}

/* Each key type makes keys of that type; a change of key type renews. */
static void
test_key_types(void **state)
{
	static const struct { enum ku_key_type t; const char *name; int bits; }
	    types[] = {
		{ KU_KEY_ECDSA_P256, "EC", 256 },
		{ KU_KEY_RSA_2048, "RSA", 2048 },
		{ KU_KEY_RSA_3072, "RSA", 3072 },
		{ KU_KEY_RSA_4096, "RSA", 4096 },
	};
	struct fixture fx;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(types); i++) {
		EVP_PKEY *k;
		X509 *c;

		fx_open(&fx, 0, types[i].t);
		/* The service account key alone: RSA 4096 keys are slow. */
		assert_int_equal(ku_pki_service_account(fx.pki, &fx.rep, &err),
		    KU_OK);
		k = load_key(&fx, "pki/sa.key");
		assert_true(EVP_PKEY_is_a(k, types[i].name));
		assert_int_equal(EVP_PKEY_get_bits(k), types[i].bits);
		EVP_PKEY_free(k);
		if (types[i].t == KU_KEY_RSA_2048) {
			/* The whole PKI in RSA: signatures too. */
			fx_generate(&fx);
			c = load_cert(&fx, "pki/apiserver.crt");
			assert_int_equal(X509_get_signature_nid(c),
			    NID_sha256WithRSAEncryption);
			/* RSA keys may carry TLS key transport. */
			assert_true(X509_get_key_usage(c) &
			    KU_KEY_ENCIPHERMENT);
			X509_free(c);
			fx_check_ok(&fx);
		}
		fx_close(&fx);
	}

	/* ECDSA, then the answers ask for RSA: everything is renewed. */
	fx_open(&fx, 0, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	{
		X509 *c = load_cert(&fx, "pki/apiserver.crt");
		assert_int_equal(X509_get_signature_nid(c),
		    NID_ecdsa_with_SHA256);
		assert_false(X509_get_key_usage(c) & KU_KEY_ENCIPHERMENT);
		X509_free(c);
	}
	fx.spec->key_type = KU_KEY_RSA_2048;
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_true(fx.rep.warnings.n >= 3 + 7 + 1 + 4);
	assert_non_null(strstr(fx.rep.warnings.v[0], "pki/ca.crt: renewed: "));
	assert_non_null(strstr(fx.rep.warnings.v[0], "ecdsa-p256"));
	assert_non_null(strstr(fx.rep.warnings.v[0], "rsa-2048"));
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* A second run with the same answers writes nothing. */
static void
test_idempotent(void **state)
{
	struct fixture fx;
	struct ku_strv before = { 0 }, after = { 0 };

	(void)state;
	fx_open(&fx, 3, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	snapshot(&fx, &before);
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.written.n, 0);
	assert_int_equal(fx.rep.warnings.n, 0);
	snapshot(&fx, &after);
	assert_int_equal(before.n, after.n);
	for (size_t i = 0; i < before.n; i++)
		assert_string_equal(before.v[i], after.v[i]);
	fx_check_ok(&fx);
	ku_strv_free(&before);
	ku_strv_free(&after);
	fx_close(&fx);
}

/* An extra SAN in the answers renews the apiserver's certificate only,
 * with a warning that names the file and the name. */
static void
test_renew_when_san_added(void **state)
{
	struct fixture fx;
	X509 *c;
	struct ku_strv sans = { 0 };

	(void)state;
	fx_open(&fx, 1, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	ku_strv_push(&fx.spec->api_sans, "api.example.com");
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.written.n, 2);
	assert_true(has(&fx.rep.written, "pki/apiserver.key"));
	assert_true(has(&fx.rep.written, "pki/apiserver.crt"));
	assert_int_equal(fx.rep.warnings.n, 1);
	assert_non_null(strstr(fx.rep.warnings.v[0], "pki/apiserver.crt"));
	assert_non_null(strstr(fx.rep.warnings.v[0], "DNS:api.example.com"));
	c = load_cert(&fx, "pki/apiserver.crt");
	cert_sans(c, &sans);
	assert_true(has(&sans, "DNS:api.example.com"));
	ku_strv_free(&sans);
	X509_free(c);
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* A new node: only its files are written. */
static void
test_new_node_adds_only_its_files(void **state)
{
	struct fixture fx;
	struct ku_machine *m;

	(void)state;
	fx_open(&fx, 2, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	fx.spec->nodes = xreallocarray(fx.spec->nodes, 3,
	    sizeof *fx.spec->nodes);
	m = &fx.spec->nodes[2];
	memset(m, 0, sizeof *m);
	m->name = xstrdup("node-3");
	m->address = xstrdup("127.0.1.3");
	m->port = 22;
	fx.spec->n_nodes = 3;
	fx.spec->node_count = 3;
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.warnings.n, 0);
	assert_int_equal(fx.rep.written.n, 5);
	assert_true(has(&fx.rep.written, "pki/nodes/node-3/kubelet-client.crt"));
	assert_true(has(&fx.rep.written, "pki/nodes/node-3/kubelet-client.key"));
	assert_true(has(&fx.rep.written, "pki/nodes/node-3/kubelet.crt"));
	assert_true(has(&fx.rep.written, "pki/nodes/node-3/kubelet.key"));
	assert_true(has(&fx.rep.written, "kubeconfig/kubelet/node-3.conf"));
	fx_check_ok(&fx);
	fx_close(&fx);
}

/* A certificate close to its end is renewed 30 days before. */
static void
test_renew_when_expiring(void **state)
{
	struct fixture fx;
	X509 *c, *ca;
	EVP_PKEY *cakey;
	time_t soon = time(NULL) + 10 * 86400;

	(void)state;
	fx_open(&fx, 0, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	c = load_cert(&fx, "pki/front-proxy-client.crt");
	ca = load_cert(&fx, "pki/front-proxy-ca.crt");
	cakey = load_key(&fx, "pki/front-proxy-ca.key");
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(c), soon));
	assert_true(X509_sign(c, cakey, EVP_sha256()) > 0);
	write_cert(&fx, "pki/front-proxy-client.crt", c);
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.warnings.n, 1);
	assert_non_null(strstr(fx.rep.warnings.v[0],
	    "pki/front-proxy-client.crt: renewed: it expires on "));
	assert_int_equal(fx.rep.written.n, 2);
	fx_check_ok(&fx);
	X509_free(c);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	fx_close(&fx);
}

/* The exit check fails for a key others may read, naming it; phase 2
 * does not hide that by rewriting the key. */
static void
test_check_key_mode(void **state)
{
	struct fixture fx;
	char *path, *problems;

	(void)state;
	fx_open(&fx, 1, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	path = fx_path(&fx, "pki/nodes/node-1/kubelet.key");
	assert_int_equal(chmod(path, 0644), 0);
	problems = fx_check_fails(&fx);
	assert_non_null(strstr(problems,
	    "pki/nodes/node-1/kubelet.key: mode 0644, must be 0600"));
	assert_null(strchr(problems, '\n'));   /* only that one */
	free(problems);
	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.written.n, 0);
	problems = fx_check_fails(&fx);
	free(problems);
	/* A kubeconfig too. */
	assert_int_equal(chmod(path, 0600), 0);
	free(path);
	path = fx_path(&fx, "kubeconfig/admin.conf");
	assert_int_equal(chmod(path, 0640), 0);
	problems = fx_check_fails(&fx);
	assert_non_null(strstr(problems, "kubeconfig/admin.conf: mode 0640"));
	free(problems);
	free(path);
	fx_close(&fx);
}

/* A certificate and key from another cluster's CA: the check names the
 * file; the next run renews it with a warning. */
static void
test_check_foreign_ca(void **state)
{
	struct fixture fx, other;
	char *from, *to, *problems;
	static const char *const files[] = {
		"pki/apiserver.crt", "pki/apiserver.key",
	};

	(void)state;
	fx_open(&fx, 1, KU_KEY_ECDSA_P256);
	fx_open(&other, 1, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	fx_generate(&other);
	for (size_t i = 0; i < KU_ARRAY_LEN(files); i++) {
		from = fx_path(&other, files[i]);
		to = fx_path(&fx, files[i]);
		copy_file(from, to);
		free(from);
		free(to);
	}
	to = fx_path(&fx, "pki/apiserver.crt");
	assert_int_equal(chmod(to, 0644), 0);
	free(to);
	problems = fx_check_fails(&fx);
	assert_non_null(strstr(problems,
	    "pki/apiserver.crt: it is not signed by pki/ca.crt"));
	free(problems);

	/* Only the certificate replaced: its key no longer matches. */
	from = fx_path(&other, "pki/nodes/node-1/kubelet.crt");
	to = fx_path(&fx, "pki/nodes/node-1/kubelet.crt");
	copy_file(from, to);
	assert_int_equal(chmod(to, 0644), 0);
	free(from);
	free(to);
	problems = fx_check_fails(&fx);
	assert_non_null(strstr(problems, "pki/nodes/node-1/kubelet.crt: its "
	    "key does not match the certificate"));
	free(problems);

	fx_rerun(&fx);
	fx_generate(&fx);
	assert_int_equal(fx.rep.warnings.n, 2);
	assert_non_null(strstr(fx.rep.warnings.v[0], "pki/apiserver.crt: "
	    "renewed: it is not signed by pki/ca.crt"));
	assert_non_null(strstr(fx.rep.warnings.v[1],
	    "pki/nodes/node-1/kubelet.crt: renewed"));
	fx_check_ok(&fx);
	fx_close(&fx);
	fx_close(&other);
}

/* A file that is not a certificate is renewed; a damaged encryption
 * configuration is an error and is kept. */
static void
test_damaged_files(void **state)
{
	struct fixture fx;
	char *path, *err = NULL;
	struct ku_buf b;

	(void)state;
	fx_open(&fx, 0, KU_KEY_ECDSA_P256);
	fx_generate(&fx);
	path = fx_path(&fx, "pki/etcd/peer.crt");
	assert_int_equal(ku_write_file_atomic(path, "junk\n", 5, 0644), KU_OK);
	free(path);
	path = fx_path(&fx, "pki/encryption-config.yaml");
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_non_null(strstr(b.data, "apiVersion: apiserver.config.k8s.io/v1\n"
	    "kind: EncryptionConfiguration\n"));
	assert_non_null(strstr(b.data, "      - secrets\n"));
	assert_non_null(strstr(b.data, "      - identity: {}\n"));
	ku_buf_free(&b);
	assert_int_equal(ku_write_file_atomic(path, "kind: x\n", 8, 0600),
	    KU_OK);

	fx_rerun(&fx);
	assert_int_equal(ku_pki_control_plane(fx.pki, &fx.rep, &err), KU_OK);
	assert_int_equal(fx.rep.warnings.n, 1);
	assert_non_null(strstr(fx.rep.warnings.v[0],
	    "pki/etcd/peer.crt: renewed: not a PEM certificate"));
	assert_int_equal(ku_pki_encryption_config(fx.pki, &fx.rep, &err),
	    KU_ERR_STATE);
	assert_non_null(err);
	assert_non_null(strstr(err, "pki/encryption-config.yaml"));
	free(err);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_string_equal(b.data, "kind: x\n");
	ku_buf_free(&b);
	free(path);
	fx_close(&fx);
}

/* A leaf step before the CAs exist says which substep makes them. */
static void
test_missing_ca(void **state)
{
	struct fixture fx;
	char *err = NULL;

	(void)state;
	fx_open(&fx, 0, KU_KEY_ECDSA_P256);
	assert_int_equal(ku_pki_control_plane(fx.pki, &fx.rep, &err),
	    KU_ERR_STATE);
	assert_non_null(strstr(err, "pki/ca.crt"));
	assert_non_null(strstr(err, "cas"));
	free(err);
	fx_close(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_ip),
		cmocka_unit_test(test_layout_and_modes),
		cmocka_unit_test(test_serials_unique),
		cmocka_unit_test(test_sans),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_usages_and_ca_flags),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_renew_when_san_added),
		cmocka_unit_test(test_new_node_adds_only_its_files),
		cmocka_unit_test(test_renew_when_expiring),
		cmocka_unit_test(test_check_key_mode),
		cmocka_unit_test(test_check_foreign_ca),
		cmocka_unit_test(test_damaged_files),
		cmocka_unit_test(test_missing_ca),
	};

	tl_watchdog(600);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("pki", tests, NULL, NULL);
}

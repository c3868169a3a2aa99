/* SPDX-License-Identifier: MIT */
/* libmmf core: names, create/open/remove, framed content, raw maps, files. */
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#include "internal.h"

static void names(void **s) {
  (void)s;
  assert_int_equal(mmf__name_classify("Test"), MMF__NAME_SHM);
  assert_int_equal(mmf__name_classify("a.b_c-9"), MMF__NAME_SHM);
  assert_int_equal(mmf__name_classify("x/y"), MMF__NAME_PATH);
  assert_int_equal(mmf__name_classify("/tmp/x.mmf"), MMF__NAME_PATH);
  assert_int_equal(mmf__name_classify("../x"), MMF__NAME_PATH);
  /* Any bytes but '/' and NUL, as .NET takes them. */
  const char *good[] = {".hidden", "-x",   "a b",  "a\"b",     "ä",  "tab\t",
                        "it's",    "a\\b", "\x01", "\xff\xfe", "..."};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    assert_int_equal(mmf__name_classify(good[i]), MMF__NAME_SHM);
  const char *bad[] = {
      "",          ".",          "..",         "dir/",
      "/tmp/..",   "x/.",        ".mmf-tmp-x", "/dev/shm/.mmf-tmp-y",
      "/dev/shm/", "/dev/shm/.."};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(mmf__name_classify(bad[i]), -MMF_ENAME);
  char longname[300];
  memset(longname, 'a', 255);
  longname[255] = '\0';
  assert_int_equal(mmf__name_classify(longname), MMF__NAME_SHM);
  longname[255] = 'a';
  longname[256] = '\0';
  assert_int_equal(mmf__name_classify(longname), -MMF_ENAME);
  assert_int_equal(mmf__name_classify(NULL), -MMF_ENAME);
}

/* Names with any bytes but '/': made, written, read back, listed by their
 * own bytes and removed; a transient one is removed by the watcher too. */
static void names_any_bytes(void **s) {
  (void)s;
  const char *tails[] = {" with spaces",      "-ünïcødé-€",   "-ctl\x01\x1f",
                         "-\"quoted\" 'too'", "-back\\slash", "-\xff\xfe"};
  for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
    char n[256];
    snprintf(n, sizeof n, "%s%s", tname("anyname"), tails[i]);
    for (int transient = 0; transient < 2; transient++) {
      mmf_t *m;
      assert_int_equal(
          mmf_create(n, 64, transient ? MMF_TRANSIENT : 0, 0600, &m), 0);
      assert_true(shm_exists(n));
      assert_int_equal(mmf_write(m, "hi", 2), 0);
      char buf[8];
      size_t len;
      mmf_t *o;
      assert_int_equal(mmf_open(n, 0, &o), 0);
      assert_int_equal(mmf_read(o, buf, sizeof buf, &len, NULL), 0);
      assert_int_equal(len, 2);
      mmf_close(o);
      struct mmf_info *list;
      size_t count, found = 0;
      assert_int_equal(mmf_list(&list, &count), 0);
      for (size_t k = 0; k < count; k++)
        found += !strcmp(list[k].name, n);
      free(list);
      assert_int_equal(found, 1);
      if (transient) {
        mmf_close(m);
        assert_false(shm_exists(n));
      } else {
        assert_int_equal(mmf_remove(n), 0);
        mmf_close(m);
        assert_false(shm_exists(n));
      }
    }
  }
  char longname[300];
  memset(longname, 'x', 256);
  longname[256] = '\0';
  const char *refused[] = {".", "..", ".mmf-tmp-anything", longname};
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    mmf_t *m = NULL;
    assert_int_equal(mmf_create(refused[i], 64, 0, 0600, &m), -MMF_ENAME);
    assert_int_equal(mmf_open(refused[i], 0, &m), -MMF_ENAME);
    assert_int_equal(mmf_remove(refused[i]), -MMF_ENAME);
    assert_null(m);
  }
}

static void errors_and_version(void **s) {
  (void)s;
  for (int c = MMF_EBASE + 1; c <= MMF_ENOWATCHER; c++) {
    assert_non_null(mmf_strerror(-c));
    assert_string_not_equal(mmf_strerror(-c), "unknown error");
  }
  assert_string_equal(mmf_strerror(-ENOENT), "No such file or directory");
  assert_string_equal(mmf_strerror(-99999), "unknown error");
  assert_string_equal(mmf_version(), MMF_VERSION_STRING);
}

static void create_open_remove(void **s) {
  (void)s;
  const char *n = tname("cor");
  mmf_t *m = NULL, *m2 = NULL;
  assert_int_equal(mmf_open(n, 0, &m), -ENOENT);
  assert_null(m);
  assert_int_equal(mmf_create(n, 100, 0, 0, &m), 0);
  assert_true(shm_exists(n));
  struct stat st;
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(mmf_create(n, 100, 0, 0, &m2), -EEXIST);
  assert_null(m2);
  assert_int_equal(mmf_create(n, 999, MMF_OPEN_EXISTING, 0, &m2), 0);
  struct mmf_stat a;
  assert_int_equal(mmf_stat(m2, &a), 0);
  assert_int_equal(a.capacity, 100); /* the existing map's, not 999 */
  assert_int_equal(a.length, 0);
  assert_int_equal(a.seq, 0);
  assert_int_equal(a.raw, 0);
  assert_int_equal(mmf_write(m, "abc", 3), 0);
  char buf[8];
  size_t len;
  uint64_t seq;
  assert_int_equal(mmf_read(m2, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 3);
  assert_int_equal(seq, 1);
  assert_memory_equal(buf, "abc", 3);
  /* Removal keeps open handles working. */
  assert_int_equal(mmf_remove(n), 0);
  assert_false(shm_exists(n));
  assert_int_equal(mmf_remove(n), -ENOENT);
  assert_int_equal(mmf_write(m2, "xy", 2), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 2);
  assert_int_equal(seq, 2);
  mmf_close(m);
  mmf_close(m2);
  mmf_close(NULL);
}

static void bad_arguments_change_nothing(void **s) {
  (void)s;
  mmf_t *m = NULL;
  assert_int_equal(mmf_create("..", 10, 0, 0, &m), -MMF_ENAME);
  assert_int_equal(mmf_create("", 10, 0, 0, &m), -MMF_ENAME);
  assert_int_equal(mmf_open(".mmf-tmp-x", 0, &m), -MMF_ENAME);
  const char *n = tname("bad");
  assert_int_equal(mmf_create(n, 0, 0, 0, &m), -EINVAL);
  assert_int_equal(mmf_create(n, MMF_CAPACITY_MAX + 1, 0, 0, &m), -MMF_ETOOBIG);
  assert_int_equal(mmf_create(n, 10, 1 << 20, 0, &m), -EINVAL);
  assert_int_equal(mmf_create(n, 10, MMF_RAW | MMF_TRANSIENT, 0, &m), -EINVAL);
  assert_int_equal(mmf_create(n, 10, 0, 01777, &m), -EINVAL);
  assert_int_equal(mmf_open(n, MMF_PRIVATE, &m), -EINVAL);
  assert_null(m);
  assert_false(shm_exists(n));
  assert_int_equal(mmf_remove("no/such/dir/x"), -ENOENT);
}

static void mode_is_exact(void **s) {
  (void)s;
  mode_t old = umask(077);
  const char *n = tname("mode");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 10, 0, 0644, &m), 0);
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
  umask(old);
  mmf_close(m);
  assert_int_equal(mmf_remove(n), 0);
}

static void content_is_framed(void **s) {
  (void)s;
  const char *n = tname("frame");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  /* Shorter after longer: no stale tail. */
  assert_int_equal(mmf_write(m, "a long first content", 20), 0);
  assert_int_equal(mmf_write(m, "short", 5), 0);
  char buf[64];
  size_t len;
  uint64_t seq;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 5);
  assert_int_equal(seq, 2);
  assert_memory_equal(buf, "short", 5);
  /* Every byte value, NUL included, round-trips. */
  uint8_t all[256], back[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  assert_int_equal(mmf_write(m, all, 256), 0);
  assert_int_equal(mmf_read(m, back, sizeof back, &len, NULL), 0);
  assert_int_equal(len, 256);
  assert_memory_equal(all, back, 256);
  /* Empty content. */
  assert_int_equal(mmf_write(m, NULL, 0), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 0);
  assert_int_equal(seq, 4);
  mmf_close(m);
  mmf_remove(n);
}

static void capacity_limits(void **s) {
  (void)s;
  const char *n = tname("cap");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 100, 0, 0, &m), 0);
  uint8_t big[101];
  memset(big, 'x', sizeof big);
  assert_int_equal(mmf_write(m, "keep", 4), 0);
  assert_int_equal(mmf_write(m, big, 101), -MMF_ETOOBIG);
  assert_int_equal(mmf_append(m, big, 97, "", 0), -MMF_ETOOBIG);
  char buf[128];
  size_t len;
  uint64_t seq;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 4);
  assert_int_equal(seq, 1);
  assert_memory_equal(buf, "keep", 4);
  /* Exactly the capacity fits. */
  assert_int_equal(mmf_write(m, big, 100), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 100);
  /* A small buffer: -ENOBUFS and the size needed. */
  len = 0;
  assert_int_equal(mmf_read(m, buf, 10, &len, &seq), -ENOBUFS);
  assert_int_equal(len, 100);
  void *d;
  assert_int_equal(mmf_read_alloc(m, &d, &len, &seq), 0);
  assert_int_equal(len, 100);
  assert_int_equal(seq, 2);
  assert_memory_equal(d, big, 100);
  free(d);
  mmf_close(m);
  mmf_remove(n);
}

static void append(void **s) {
  (void)s;
  const char *n = tname("app");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_append(m, "one", 3, "\n", 1), 0); /* no sep if empty */
  assert_int_equal(mmf_append(m, "two", 3, "\n", 1), 0);
  assert_int_equal(mmf_append(m, "3", 1, ", ", 2), 0);
  char buf[64];
  size_t len;
  uint64_t seq;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 10);
  assert_memory_equal(buf, "one\ntwo, 3", 10);
  assert_int_equal(seq, 3);
  mmf_close(m);
  mmf_remove(n);
}

static int child_reads(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  char buf[64];
  size_t len;
  int ok = mmf_read(m, buf, sizeof buf, &len, NULL) == 0 && len == 5 &&
           !memcmp(buf, "hello", 5);
  mmf_close(m);
  return ok ? 0 : 11;
}

static void two_processes(void **s) {
  (void)s;
  const char *n = tname("two");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "hello", 5), 0);
  assert_int_equal(reap(spawn(child_reads, (void *)n), 5000), 0);
  mmf_close(m);
  mmf_remove(n);
}

static void raw_maps(void **s) {
  (void)s;
  const char *n = tname("raw");
  mmf_t *m, *m2;
  assert_int_equal(mmf_create(n, 1000, MMF_RAW, 0, &m), 0);
  assert_int_equal(mmf_size(m), 1000);
  assert_non_null(mmf_data(m));
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_size, 1000);
  memcpy(mmf_data(m), "raw!", 4);
  /* Without MMF_RAW it is not an mmf map, and says so. */
  assert_int_equal(mmf_open(n, 0, &m2), -MMF_ENOTMMF);
  assert_int_equal(mmf_open(n, MMF_RAW, &m2), 0);
  assert_memory_equal(mmf_data(m2), "raw!", 4);
  assert_int_equal(mmf_write(m2, "RAW", 3), 0);
  assert_memory_equal(mmf_data(m), "RAW!", 4);
  assert_int_equal(mmf_write(m2, "x", 1001 > 1000 ? 0 : 1), 0);
  uint8_t big[1001] = {0};
  assert_int_equal(mmf_write(m2, big, 1001), -MMF_ETOOBIG);
  uint8_t back[1000];
  size_t len;
  uint64_t seq = 99;
  assert_int_equal(mmf_read(m2, back, sizeof back, &len, &seq), 0);
  assert_int_equal(len, 1000);
  assert_int_equal(seq, 0);
  assert_int_equal(mmf_append(m2, "a", 1, "", 0), -MMF_ERAW);
  assert_int_equal(mmf_wait(m2, 0, 0, NULL), -MMF_ERAW);
  struct mmf_stat a;
  assert_int_equal(mmf_stat(m2, &a), 0);
  assert_int_equal(a.raw, 1);
  assert_int_equal(a.kind, MMF_KIND_RAW);
  assert_int_equal(a.capacity, 1000);
  mmf_close(m);
  mmf_close(m2);
  mmf_remove(n);
}

static void python_style_object_is_raw(void **s) {
  (void)s;
  /* An object made by another program, e.g. Python's SharedMemory. */
  const char *n = tname("foreign");
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  int fd = open(p, O_CREAT | O_EXCL | O_RDWR, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, 4096), 0);
  assert_int_equal(pwrite(fd, "hi", 2, 0), 2);
  close(fd);
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ENOTMMF);
  assert_int_equal(mmf_open(n, MMF_RAW, &m), 0);
  assert_memory_equal(mmf_data(m), "hi", 2);
  mmf_close(m);
  struct mmf_info in;
  assert_int_equal(mmf_info(n, &in), 0);
  assert_int_equal(in.kind, MMF_KIND_RAW);
  assert_int_equal(in.capacity, 4096);
  assert_int_equal(mmf_remove(n), 0);
}

static int child_file_reopen(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  char buf[64];
  size_t len;
  uint64_t seq;
  int ok = mmf_read(m, buf, sizeof buf, &len, &seq) == 0 && len == 9 &&
           seq == 1 && !memcmp(buf, "persisted", 9);
  ok = ok && mmf_write(m, "changed", 7) == 0;
  mmf_close(m);
  return ok ? 0 : 11;
}

static void file_backed_maps(void **s) {
  (void)s;
  char dir[] = "/tmp/mmftest-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[300];
  snprintf(path, sizeof path, "%s/data.mmf", dir);
  mmf_t *m;
  assert_int_equal(mmf_create(path, 128, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "persisted", 9), 0);
  assert_int_equal(mmf_sync(m), 0);
  mmf_close(m);
  /* Another process opens it by path and changes it. */
  assert_int_equal(reap(spawn(child_file_reopen, path), 5000), 0);
  assert_int_equal(mmf_open(path, 0, &m), 0);
  char buf[64];
  size_t len;
  uint64_t seq;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 7);
  assert_int_equal(seq, 2);
  mmf_close(m);
  /* A symlink is never followed when creating or opening a map. */
  char link[300];
  snprintf(link, sizeof link, "%s/link.mmf", dir);
  assert_int_equal(symlink(path, link), 0);
  assert_int_equal(mmf_create(link, 128, 0, 0, &m), -EEXIST);
  assert_int_equal(mmf_create(link, 128, MMF_OPEN_EXISTING, 0, &m), -ELOOP);
  assert_int_equal(mmf_open(link, 0, &m), -ELOOP);
  unlink(link);
  /* mmf_remove leaves files that are not mmf maps alone. */
  char other[300];
  snprintf(other, sizeof other, "%s/other.txt", dir);
  FILE *f = fopen(other, "w");
  fputs("not a map", f);
  fclose(f);
  assert_int_equal(mmf_remove(other), -MMF_ENOTMMF);
  assert_int_equal(access(other, F_OK), 0);
  unlink(other);
  assert_int_equal(mmf_remove(path), 0);
  assert_int_equal(access(path, F_OK), -1);
  rmdir(dir);
}

static void map_existing_files(void **s) {
  (void)s;
  char path[] = "/tmp/mmftest-file-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "0123456789", 10), 10);
  close(fd);
  mmf_t *m;
  assert_int_equal(mmf_map_file(path, 0, &m), 0);
  assert_int_equal(mmf_size(m), 10);
  assert_memory_equal(mmf_data(m), "0123456789", 10);
  ((char *)mmf_data(m))[0] = 'X';
  assert_int_equal(mmf_sync(m), 0);
  mmf_close(m);
  /* Private: changes stay in this process. */
  assert_int_equal(mmf_map_file(path, MMF_PRIVATE, &m), 0);
  assert_memory_equal(mmf_data(m), "X123456789", 10);
  ((char *)mmf_data(m))[1] = 'Y';
  mmf_close(m);
  assert_int_equal(mmf_map_file(path, MMF_READONLY, &m), 0);
  assert_memory_equal(mmf_data(m), "X123456789", 10);
  assert_int_equal(mmf_write(m, "a", 1), -MMF_EREADONLY);
  struct mmf_stat a;
  assert_int_equal(mmf_stat(m, &a), 0);
  assert_int_equal(a.kind, MMF_KIND_FILE);
  mmf_close(m);
  /* Empty file: size 0. */
  assert_int_equal(truncate(path, 0), 0);
  assert_int_equal(mmf_map_file(path, MMF_READONLY, &m), 0);
  assert_int_equal(mmf_size(m), 0);
  assert_null(mmf_data(m));
  mmf_close(m);
  assert_int_equal(mmf_map_file("/nonexistent/x", 0, &m), -ENOENT);
  assert_int_equal(mmf_map_file("/tmp", 0, &m), -EISDIR);
  unlink(path);
}

static void save_is_atomic(void **s) {
  (void)s;
  const char *n = tname("save");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  uint8_t data[5] = {'a', 0, 'b', 0xff, '\n'};
  assert_int_equal(mmf_write(m, data, 5), 0);
  char dir[] = "/tmp/mmftest-save-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[300];
  snprintf(path, sizeof path, "%s/out.bin", dir);
  /* An old file is replaced whole. */
  FILE *f = fopen(path, "w");
  fputs("old content that is longer", f);
  fclose(f);
  assert_int_equal(mmf_save(m, path), 0);
  f = fopen(path, "rb");
  uint8_t back[64];
  size_t got = fread(back, 1, sizeof back, f);
  fclose(f);
  assert_int_equal(got, 5);
  assert_memory_equal(back, data, 5);
  /* Nothing but the file is left in the folder. */
  DIR *d = opendir(dir);
  int entries = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    entries++;
  closedir(d);
  assert_int_equal(entries, 3);
  char bad[300];
  snprintf(bad, sizeof bad, "%s/missing/out.bin", dir);
  assert_int_equal(mmf_save(m, bad), -ENOENT);
  unlink(path);
  rmdir(dir);
  mmf_close(m);
  mmf_remove(n);
}

static void info_and_list(void **s) {
  (void)s;
  const char *n = tname("list");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 512, 0, 0640, &m), 0);
  assert_int_equal(mmf_write(m, "12345", 5), 0);
  struct mmf_info in;
  assert_int_equal(mmf_info(n, &in), 0);
  assert_string_equal(in.name, n);
  assert_int_equal(in.kind, MMF_KIND_MMF);
  assert_int_equal(in.capacity, 512);
  assert_int_equal(in.length, 5);
  assert_int_equal(in.seq, 1);
  assert_int_equal(in.mode, 0640);
  assert_int_equal(in.owner, getuid());
  assert_int_equal(in.holders, 1);
  struct mmf_info *list;
  size_t cnt;
  assert_int_equal(mmf_list(&list, &cnt), 0);
  int found = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (!strcmp(list[i].name, n)) {
      found = 1;
      assert_int_equal(list[i].length, 5);
    }
    if (i)
      assert_true(strcmp(list[i - 1].name, list[i].name) < 0);
  }
  free(list);
  assert_true(found);
  mmf_close(m);
  assert_int_equal(mmf_info(n, &in), 0);
  assert_int_equal(in.holders, 0);
  mmf_remove(n);
  assert_int_equal(mmf_info(n, &in), -ENOENT);
}

static void sparse_creation(void **s) {
  (void)s;
  /* A huge capacity costs nothing until written. */
  const char *n = tname("huge");
  mmf_t *m;
  assert_int_equal(mmf_create(n, (size_t)16 << 30, 0, 0, &m), 0);
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_true(st.st_blocks * 512 <= 64 * 1024);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  assert_int_equal(stat(p, &st), 0);
  assert_true(st.st_blocks * 512 <= 64 * 1024);
  mmf_close(m);
  mmf_remove(n);
}

static void fd_copies(void **s) {
  (void)s;
  const char *n = tname("fd");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 1 << 20, 0, 0, &m), 0);
  /* From a regular file, in the kernel. */
  char path[] = "/tmp/mmftest-fd-XXXXXX";
  int fd = mkstemp(path);
  uint8_t data[300000];
  uint64_t seed = 11;
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)rnd(&seed);
  assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
  assert_int_equal(lseek(fd, 1000, SEEK_SET), 1000); /* from the offset on */
  size_t len;
  assert_int_equal(mmf_write_fd(m, fd, sizeof data, &len), 0);
  assert_int_equal(len, sizeof data - 1000); /* the file ended first */
  void *back;
  uint64_t seq;
  assert_int_equal(mmf_read_alloc(m, &back, &len, &seq), 0);
  assert_int_equal(len, sizeof data - 1000);
  assert_memory_equal(back, data + 1000, len);
  free(back);
  /* Too big for the capacity: nothing happens. */
  assert_int_equal(mmf_write_fd(m, fd, (1 << 20) + 1, &len), -MMF_ETOOBIG);
  /* From a pipe: read into the slot. */
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "piped", 5), 5);
  close(p[1]);
  assert_int_equal(mmf_write_fd(m, p[0], 100, &len), 0);
  assert_int_equal(len, 5);
  close(p[0]);
  /* To a regular file, after what it holds. */
  assert_int_equal(ftruncate(fd, 0), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(write(fd, "head:", 5), 5);
  assert_int_equal(mmf_read_fd(m, fd, &len, &seq), 0);
  assert_int_equal(len, 5);
  assert_int_equal(seq, 2);
  char got[16] = {0};
  assert_int_equal(pread(fd, got, sizeof got, 0), 10);
  assert_memory_equal(got, "head:piped", 10);
  /* To a pipe. */
  assert_int_equal(pipe(p), 0);
  assert_int_equal(mmf_read_fd(m, p[1], &len, NULL), 0);
  close(p[1]);
  assert_int_equal(read(p[0], got, sizeof got), 5);
  assert_memory_equal(got, "piped", 5);
  close(p[0]);
  close(fd);
  unlink(path);
  mmf_close(m);
  mmf_remove(n);
}

/* mmf_write_at patches part of the content; writers patching their own
 * bytes (here two threads, 2000 patches each) never undo each other. */
struct patcher {
  mmf_t *m;
  size_t off;
};

static void *patch_loop(void *arg) {
  struct patcher *p = arg;
  for (uint32_t i = 1; i <= 2000; i++)
    if (mmf_write_at(p->m, p->off, &i, sizeof i) < 0)
      return (void *)1;
  return NULL;
}

static void write_at(void **s) {
  (void)s;
  const char *n = tname("at");
  mmf_t *m;
  uint8_t buf[64];
  size_t len;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "hello world", 11), 0);
  assert_int_equal(mmf_write_at(m, 6, "there", 5), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 11);
  assert_memory_equal(buf, "hello there", 11);
  /* Past the end: the gap is zeros, the length grows. */
  assert_int_equal(mmf_write_at(m, 14, "!", 1), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 15);
  assert_memory_equal(buf, "hello there\0\0\0!", 15);
  /* Beyond the capacity: refused, nothing changes. */
  uint64_t seq0, seq1;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq0), 0);
  assert_int_equal(mmf_write_at(m, 60, "12345", 5), -MMF_ETOOBIG);
  assert_int_equal(mmf_write_at(m, SIZE_MAX, "1", 1), -MMF_ETOOBIG);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq1), 0);
  assert_int_equal(seq0, seq1);
  assert_int_equal(len, 15);
  /* Two patchers of their own bytes. */
  struct patcher a = {m, 16}, b = {m, 40};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, patch_loop, &a);
  pthread_create(&tb, NULL, patch_loop, &b);
  void *ra, *rb;
  pthread_join(ta, &ra);
  pthread_join(tb, &rb);
  assert_null(ra);
  assert_null(rb);
  uint32_t va, vb;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 44);
  memcpy(&va, buf + 16, 4);
  memcpy(&vb, buf + 40, 4);
  assert_int_equal(va, 2000);
  assert_int_equal(vb, 2000);
  assert_memory_equal(buf, "hello there\0\0\0!", 15);
  mmf_close(m);
  mmf_remove(n);
  /* A raw map: the bytes at the offset, within its size. */
  assert_int_equal(mmf_create(n, 16, MMF_RAW, 0, &m), 0);
  assert_int_equal(mmf_write_at(m, 4, "raw", 3), 0);
  assert_memory_equal((uint8_t *)mmf_data(m) + 4, "raw", 3);
  assert_int_equal(mmf_write_at(m, 14, "raw", 3), -MMF_ETOOBIG);
  mmf_close(m);
  mmf_remove(n);
}

/* A map made where pages are 64 KiB (slots aligned to 65536, recorded in
 * the header) works here; impossible alignments are corruption. */
static void other_page_sizes(void **s) {
  (void)s;
  const char *n = tname("align");
  char path[300];
  snprintf(path, sizeof path, "/dev/shm/%s", n);
  uint64_t align = 65536, cap = 100000;
  uint64_t size = mmf__object_size_for(cap, align);
  assert_int_equal(size, align + 2 * 131072);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  struct mmf__hdr *h =
      mmap(NULL, MMF__HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert_true(h != MAP_FAILED);
  mmf__hdr_init(h, cap, 0, align);
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), 0);
  assert_int_equal(mmf_write(m, "sixty-four", 10), 0);
  assert_int_equal(mmf_append(m, "KiB", 3, " ", 1), 0);
  char buf[64];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 14);
  assert_memory_equal(buf, "sixty-four KiB", 14);
  /* The content lies at the recorded alignment. */
  char at[10];
  assert_int_equal(pread(fd, at, sizeof at, (off_t)(align + 131072)), 10);
  assert_memory_equal(at, "sixty-four", 10);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, 16, &w), 0);
  /* At the recorded alignment in the file (above); page-aligned here. */
  assert_int_equal((uintptr_t)w.data % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
  mmf_write_abort(m, &w);
  mmf_close(m);
  /* Alignments a header may not give. */
  uint32_t bad[] = {1000, 2048, 4096 * 3, 1u << 21};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    h->align = bad[i];
    h->hdr_size = bad[i];
    assert_int_equal(mmf_open(n, 0, &m), -MMF_ECORRUPT);
  }
  h->align = 65536;
  h->hdr_size = 4096; /* disagreeing */
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ECORRUPT);
  munmap(h, MMF__HDR_SIZE);
  close(fd);
  unlink(path);
  /* Made here: the larger of 4096 and this system's page size. */
  assert_int_equal(mmf_create(n, 10, 0, 0, &m), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  uint64_t here = (uint64_t)sysconf(_SC_PAGESIZE) > 4096
                      ? (uint64_t)sysconf(_SC_PAGESIZE)
                      : 4096;
  assert_int_equal((uint64_t)st.st_size, 3 * here);
  mmf_close(m);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(names),
      T(names_any_bytes),
      T(errors_and_version),
      T(create_open_remove),
      T(bad_arguments_change_nothing),
      T(mode_is_exact),
      T(content_is_framed),
      T(capacity_limits),
      T(append),
      T(two_processes),
      T(raw_maps),
      T(python_style_object_is_raw),
      T(file_backed_maps),
      T(map_existing_files),
      T(save_is_atomic),
      T(info_and_list),
      T(sparse_creation),
      T(fd_copies),
      T(write_at),
      T(other_page_sizes),
  };
  return run_cases("map", tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The tables of `list` and `info` through libsmartcols, as lsipc(1) makes
 * them: one column list, shared by the parsing of -o, the help and the
 * cells; widths counted in terminal columns (wide characters too). */
#include "cli.h"

#include <errno.h>
#include <langinfo.h>
#include <libsmartcols.h>
#include <locale.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
  COL_NAME,
  COL_KIND,
  COL_STATE,
  COL_CAPACITY,
  COL_LENGTH,
  COL_SEQ,
  COL_OBJECT,
  COL_MODE,
  COL_OWNER,
  COL_UID,
  COL_GID,
  COL_MODIFIED,
  COL_CHANGED,
  COL_TRANSIENT,
  COL_HOLDERS,
  COL_LOCK,
  NCOLS
};

static const struct column {
  const char *name;
  bool right; /* numbers: right-aligned */
  const char *help;
} columns[NCOLS] = {
    [COL_NAME] = {"NAME", false, "the map's name, quoted as a shell reads it"},
    [COL_KIND] = {"KIND", false, "mmf, raw, file, or unknown (not readable)"},
    [COL_STATE] = {"STATE", false,
                   "empty when sound; orphaned, or why it cannot be read"},
    [COL_CAPACITY] = {"CAPACITY", true, "the largest content"},
    [COL_LENGTH] = {"LENGTH", true, "the current content's length"},
    [COL_SEQ] = {"SEQ", true, "the current content's sequence number"},
    [COL_OBJECT] = {"OBJECT", true, "the object's size"},
    [COL_MODE] = {"MODE", false, "permission bits"},
    [COL_OWNER] = {"OWNER", false, "the owner's user name"},
    [COL_UID] = {"UID", true, "the owner's user id"},
    [COL_GID] = {"GID", true, "the group id"},
    [COL_MODIFIED] = {"MODIFIED", false, "last change of the content (UTC)"},
    [COL_CHANGED] = {"CHANGED", false, "last change of the inode (UTC)"},
    [COL_TRANSIENT] = {"TRANSIENT", false,
                       "yes: removed when its last holder is gone"},
    [COL_HOLDERS] = {"HOLDERS", true, "open handles, in any process"},
    [COL_LOCK] = {"LOCK", false, "free, or the pid holding the lock"},
};

static const int list_default[] = {COL_NAME,   COL_KIND,    COL_CAPACITY,
                                   COL_LENGTH, COL_SEQ,     COL_MODE,
                                   COL_OWNER,  COL_HOLDERS, COL_STATE};
static const int info_default[] = {
    COL_NAME,      COL_KIND,    COL_STATE, COL_CAPACITY, COL_LENGTH,
    COL_SEQ,       COL_OBJECT,  COL_MODE,  COL_OWNER,    COL_MODIFIED,
    COL_TRANSIENT, COL_HOLDERS, COL_LOCK};
#define NELEM(a) (sizeof a / sizeof *a)

void table_columns_help(FILE *f) {
  fputs("\ncolumns (-o, --output COLS):\n", f);
  for (int i = 0; i < NCOLS; i++)
    fprintf(f, "  %-10s %s\n", columns[i].name, columns[i].help);
}

int table_parse_columns(const char *list, bool for_info, int *ret_cols,
                        int *ret_n) {
  int n = 0;
  const char *p = list;
  /* "+COLS" adds to the default columns, as lsipc takes it. */
  if (*p == '+') {
    const int *d = for_info ? info_default : list_default;
    n = for_info ? (int)NELEM(info_default) : (int)NELEM(list_default);
    memcpy(ret_cols, d, (size_t)n * sizeof *d);
    p++;
  }
  while (*p) {
    size_t len = strcspn(p, ",");
    int k = 0;
    for (; k < NCOLS; k++)
      if (strlen(columns[k].name) == len &&
          !strncasecmp(columns[k].name, p, len))
        break;
    if (k == NCOLS || n >= TABLE_MAX_COLS)
      return -1;
    ret_cols[n++] = k;
    p += len;
    if (*p == ',')
      p++;
  }
  if (!n)
    return -1;
  *ret_n = n;
  return 0;
}

const char *table_column_names(void) {
  static char buf[256];
  if (!buf[0])
    for (int i = 0; i < NCOLS; i++) {
      strcat(buf, columns[i].name);
      if (i + 1 < NCOLS)
        strcat(buf, ", ");
    }
  return buf;
}

const char *kind_name(const struct mmf_info *in) {
  /* Whatever stopped the look (no permission, no memory to map it) leaves
   * the kind unknown, unless the header was read and found wanting. */
  if (in->error && in->kind != MMF_KIND_MMF)
    return "unknown";
  return in->kind == MMF_KIND_MMF   ? "mmf"
         : in->kind == MMF_KIND_RAW ? "raw"
                                    : "file";
}

const char *state_text(const struct mmf_info *in) {
  switch (in->error) {
  case 0:
    return in->orphaned ? "orphaned" : "";
  case -EACCES:
  case -EPERM:
    return "no permission to read it";
  case -MMF_ECORRUPT:
    return "broken header";
  case -MMF_EVERSION:
    return "another format version";
  case -ENOMEM:
    return "not mapped: out of memory or address space (ulimit -v?)";
  case -EMFILE:
  case -ENFILE:
    return "not opened: too many open files (ulimit -n?)";
  default: {
    static char buf[160];
    snprintf(buf, sizeof buf, "not read: %s", mmf_strerror(in->error));
    return buf;
  }
  }
}

const char *owner_name(uid_t uid, char *buf, size_t cap) {
  struct passwd *pw = getpwuid(uid);
  if (pw)
    snprintf(buf, cap, "%s", pw->pw_name);
  else
    snprintf(buf, cap, "%u", (unsigned)uid);
  return buf;
}

const char *iso_time(int64_t ns, char *buf, size_t cap) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

static const char *size_cell(uint64_t v, bool bytes, char *buf, size_t cap) {
  if (!bytes)
    return human_size(v, buf, cap);
  snprintf(buf, cap, "%llu", (unsigned long long)v);
  return buf;
}

/* The text of column c for `in`; long: the wording of the info form (pids
 * after the holders, "held by pid N").  "" or "-" where it does not apply. */
static const char *cell(int c, const struct mmf_info *in,
                        const struct holders *h, bool bytes, bool long_form,
                        char *buf, size_t cap) {
  bool sound = in->kind == MMF_KIND_MMF && !in->error;
  switch (c) {
  case COL_NAME:
    return quote_name(in->name, buf, cap);
  case COL_KIND:
    return kind_name(in);
  case COL_STATE:
    return state_text(in);
  case COL_CAPACITY:
    return in->error ? "-" : size_cell(in->capacity, bytes, buf, cap);
  case COL_LENGTH:
    return in->error ? "-" : size_cell(in->length, bytes, buf, cap);
  case COL_SEQ:
    if (!sound)
      return "-";
    snprintf(buf, cap, "%llu", (unsigned long long)in->seq);
    return buf;
  case COL_OBJECT:
    return size_cell(in->object_size, bytes, buf, cap);
  case COL_MODE:
    snprintf(buf, cap, "%04o", in->mode);
    return buf;
  case COL_OWNER:
    return owner_name(in->owner, buf, cap);
  case COL_UID:
    snprintf(buf, cap, "%u", (unsigned)in->owner);
    return buf;
  case COL_GID:
    snprintf(buf, cap, "%u", (unsigned)in->group);
    return buf;
  case COL_MODIFIED:
    return iso_time(in->mtime_ns, buf, cap);
  case COL_CHANGED:
    return iso_time(in->ctime_ns, buf, cap);
  case COL_TRANSIENT:
    return !sound ? "-" : in->transient ? "yes" : "no";
  case COL_HOLDERS: {
    if (!sound)
      return "-";
    size_t o = (size_t)snprintf(buf, cap, "%u", in->holders);
    if (!long_form || !h)
      return buf;
    if (h->n) {
      o += (size_t)snprintf(buf + o, cap - o, " (pid%s", h->n > 1 ? "s" : "");
      for (size_t i = 0; i < h->n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%d", i ? ", " : " ",
                              (int)h->pids[i]);
    }
    if (h->hidden && o < cap)
      o += (size_t)snprintf(buf + o, cap - o,
                            "%s%u in processes not visible here",
                            h->n ? "; " : " (", h->hidden);
    if ((h->n || h->hidden) && o < cap)
      snprintf(buf + o, cap - o, ")");
    return buf;
  }
  case COL_LOCK:
    if (!sound)
      return "-";
    if (in->lock_pid == 0)
      return "free";
    if (in->lock_pid < 0)
      return long_form ? "held by a process not visible here (another PID "
                         "namespace, or hidden by /proc)"
                       : "hidden";
    snprintf(buf, cap, long_form ? "held by pid %d" : "%d", (int)in->lock_pid);
    return buf;
  }
  return "";
}

/* Width in columns needs the characters: a UTF-8 LC_CTYPE, whatever the
 * environment says (names are UTF-8 or escaped by quote_name). */
static void utf8_ctype(void) {
  if (!setlocale(LC_CTYPE, "") || strcmp(nl_langinfo(CODESET), "UTF-8"))
    setlocale(LC_CTYPE, "C.UTF-8");
}

int print_table(FILE *f, const struct mmf_info *rows, size_t n,
                const struct holders *h, const struct table_opts *t,
                bool for_info) {
  int cols[TABLE_MAX_COLS], ncols;
  if (t->ncols) {
    ncols = t->ncols;
    memcpy(cols, t->cols, (size_t)ncols * sizeof *cols);
  } else {
    const int *d = for_info ? info_default : list_default;
    ncols = for_info ? (int)NELEM(info_default) : (int)NELEM(list_default);
    memcpy(cols, d, (size_t)ncols * sizeof *d);
  }
  char buf[QUOTED_MAX];
  if (for_info && !t->given) {
    /* One field a line, as `info` has always printed, empty ones left
     * out. */
    for (int c = 0; c < ncols; c++) {
      const char *v = cell(cols[c], rows, h, t->bytes, true, buf, sizeof buf);
      if (!*v || !strcmp(v, "-"))
        continue;
      char label[16];
      size_t i = 0;
      for (const char *p = columns[cols[c]].name; *p && i + 1 < sizeof label;
           p++)
        label[i++] = (char)(*p - 'A' + 'a');
      label[i] = 0;
      fprintf(f, "%-10s %s\n", label, v);
    }
    return 0;
  }
  utf8_ctype();
  struct libscols_table *tb = scols_new_table();
  if (!tb)
    return -ENOMEM;
  scols_table_set_stream(tb, f);
  scols_table_enable_noheadings(tb, t->noheadings);
  if (t->raw)
    scols_table_enable_raw(tb, 1);
  /* quote_name already made every name one line a terminal shows as it
   * is, in the shell's quoting; --raw and -e have smartcols' own
   * escapes (\x20), which parsers of lsipc's output expect. */
  if (!t->raw && !t->export && !t->newline)
    scols_table_enable_noencoding(tb, 1);
  if (t->newline)
    scols_table_set_column_separator(tb, "\n");
  if (t->export || t->newline)
    scols_table_enable_export(tb, 1);
  int r = 0;
  for (int c = 0; c < ncols && !r; c++)
    if (!scols_table_new_column(tb, columns[cols[c]].name, 0,
                                columns[cols[c]].right ? SCOLS_FL_RIGHT : 0))
      r = -ENOMEM;
  for (size_t i = 0; i < n && !r; i++) {
    struct libscols_line *ln = scols_table_new_line(tb, NULL);
    if (!ln) {
      r = -ENOMEM;
      break;
    }
    for (int c = 0; c < ncols && !r; c++)
      if (scols_line_set_data(
              ln, (size_t)c,
              cell(cols[c], &rows[i], h, t->bytes, false, buf, sizeof buf)) < 0)
        r = -ENOMEM;
  }
  if (!r && scols_print_table(tb) < 0)
    r = -EIO;
  scols_unref_table(tb);
  return r;
}

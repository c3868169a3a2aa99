/* SPDX-License-Identifier: MIT */
/* The verbs that look without changing anything: info and list, their
 * table options and their holders. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The table options of `list` and `info`: EXIT_OK, or a usage error. */
static int table_options(const struct verb *v, const struct opts *o,
                         struct table_opts *t) {
  memset(t, 0, sizeof *t);
  t->given = o->given & (OPT_TABLE | OPT_RAW);
  t->noheadings = o->given & OPT_NOHEADINGS;
  t->raw = o->given & OPT_RAW;
  t->newline = o->given & OPT_NEWLINE;
  t->export = o->given & OPT_EXPORT;
  t->bytes = o->given & OPT_BYTES;
  if (t->given && (o->given & OPT_JSON))
    return usage_error(v, "--json prints every field; -o, --noheadings, "
                          "--raw, -n and -e are for tables");
  if (o->output && table_parse_columns(o->output, !strcmp(v->name, "info"),
                                       t->cols, &t->ncols) < 0)
    return usage_error(v,
                       "bad --output '%s': give columns separated by "
                       "commas (%s)",
                       o->output, table_column_names());
  return EXIT_OK;
}

/* All the pids that hold `name` (h->pids malloc'ed), or -errno. */
static int all_holders(const char *name, struct holders *h) {
  size_t cap = 64;
  for (;;) {
    pid_t *p = malloc(cap * sizeof *p);
    if (!p)
      return -ENOMEM;
    int r = mmf_holders(name, p, cap, &h->n, &h->hidden);
    if (r < 0 || h->n <= cap) {
      if (r < 0)
        free(p);
      else
        h->pids = p;
      return r;
    }
    free(p);
    cap = h->n + 16; /* more came meanwhile: ask again with room */
  }
}

int cmd_info(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  struct table_opts t;
  int rc = table_options(v, o, &t);
  if (rc != EXIT_OK)
    return rc;
  struct mmf_info in;
  int r = mmf_info(name, &in);
  if (r == -ENOMEM || r == -EMFILE || r == -ENFILE)
    return fail("info", name,
                "%s; the map itself may well be sound: try again with a "
                "higher limit",
                state_text(&in));
  bool described =
      r == -MMF_ECORRUPT || r == -MMF_EVERSION || r == -EACCES; /* *in set */
  if (r < 0 && described && (o->given & OPT_JSON)) {
    /* The object as far as it could be read, with its error: a script
     * gets the schema it parses, and the exit status all the same. */
    print_info_json(stdout, &in, NULL,
                    o->hex_name && !o->hex_path ? NULL : name);
    fputc('\n', stdout);
  }
  if (r < 0)
    return fail_map(v, name, r);
  struct holders h = {0}, *hp = NULL;
  if (r == 0 && in.kind == MMF_KIND_MMF && all_holders(name, &h) == 0)
    hp = &h;
  if (o->given & OPT_JSON) {
    print_info_json(stdout, &in, hp, o->hex_name && !o->hex_path ? NULL : name);
    fputc('\n', stdout);
  } else if ((r = print_table(stdout, &in, 1, hp, &t, true)) < 0) {
    rc = fail("info", name, "cannot print the table: %s", strerror(-r));
  }
  free(h.pids);
  return rc;
}

int cmd_list(const struct verb *v, const struct opts *o) {
  struct table_opts t;
  int rc = table_options(v, o, &t);
  if (rc != EXIT_OK)
    return rc;
  struct mmf_info *list;
  size_t n;
  int r = mmf_list(&list, &n);
  if (r < 0)
    return fail("list", "/dev/shm", "%s", mmf_strerror(r));
  if (o->given & OPT_JSON) {
    fputc('[', stdout);
    for (size_t i = 0; i < n; i++) {
      if (i)
        fputc(',', stdout);
      print_info_json(stdout, &list[i], NULL, NULL);
    }
    fputs("]\n", stdout);
  } else if ((r = print_table(stdout, list, n, NULL, &t, false)) < 0) {
    rc = fail("list", "/dev/shm", "cannot print the table: %s", strerror(-r));
  }
  free(list);
  return rc;
}

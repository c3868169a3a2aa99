/* SPDX-License-Identifier: MIT */
/* The mmf command: shared declarations of its files. */
#ifndef MMF_CLI_H
#define MMF_CLI_H

#include "mmf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3 };
/* read --follow whose pipe's reader has gone: the status of a process
 * killed by SIGPIPE, as tail -f ends (128 + 13). */
#define EXIT_READER_GONE 141

/* The options of all verbs; each verb accepts some of them. */
enum {
  OPT_SIZE = 1 << 0,
  OPT_OR_OPEN = 1 << 1,
  OPT_RAW = 1 << 2,
  OPT_MODE = 1 << 3,
  OPT_APPEND = 1 << 4,
  OPT_SEP = 1 << 5,
  OPT_WAIT = 1 << 6,
  OPT_AFTER = 1 << 7,
  OPT_TIMEOUT = 1 << 8,
  OPT_OFFSET = 1 << 9,
  OPT_LENGTH = 1 << 10,
  OPT_JSON = 1 << 11,
  OPT_BYTES = 1 << 12,    /* exact byte counts in tables */
  OPT_FORCE = 1 << 13,    /* remove: a missing map is no error */
  OPT_NAME_HEX = 1 << 14, /* the name's bytes in hex, instead of NAME */
  OPT_FOLLOW = 1 << 15,   /* read: every later content, as tail -f */
  OPT_SEQ = 1 << 16,      /* read: the seq printed, on stderr */
  /* list and info: the table's form, as lsipc(1) takes it (their --raw is
   * OPT_RAW, a raw table) */
  OPT_OUTPUT = 1 << 17,     /* -o COLS */
  OPT_NOHEADINGS = 1 << 18, /* --noheadings */
  OPT_NEWLINE = 1 << 19,    /* -n: each field on a line of its own */
  OPT_EXPORT = 1 << 20,     /* -e: NAME="value" pairs */
  OPT_COMPACT = 1 << 21,    /* new: MMF_COMPACT */
};
#define OPT_TABLE (OPT_OUTPUT | OPT_NOHEADINGS | OPT_NEWLINE | OPT_EXPORT)

struct opts {
  unsigned given; /* OPT_* bits seen */
  uint64_t size, after, offset, length;
  unsigned mode;
  int timeout_ms; /* -1: none */
  const char *sep;
  bool help;
  int nargs; /* operands, in order, after the options */
  char **args;
  char *hex_name;     /* --name-hex, decoded (also args[0]) */
  bool hex_path;      /* ... and it held a '/': a path, not /dev/shm/NAME */
  const char *output; /* -o COLS */
};

struct verb;
typedef int (*verb_fn)(const struct verb *v, const struct opts *o);

/* A verb: its name, options, operand counts, summary, usage and help. */
struct verb {
  const char *name;
  verb_fn run;
  unsigned options;
  int min_args, max_args; /* max -1: any number */
  const char *summary;
  const char *usage;
  const char *help;
};

/* The files of the CLI, from the top down; each calls only those below it
 * (commands.c and guard.c side by side):
 *   main.c -> verbs.c -> commands.c -> watch.c, guard.c, output.c -> msg.c
 *   -> text.c
 * with inspect.c beside commands.c and table.c beside output.c
 * (verbs.c, commands.c, inspect.c and output.c -> table.c -> text.c; verbs.c
 * calls watch.c's cmd_wait too), and main.c -> args.c -> msg.c, main.c ->
 * guard.c (signals_save), main.c -> output.c (std_closed) and msg.c. */

/* verbs.c: the table, ended by a zeroed entry. */
extern const struct verb mmf_verbs[];
const struct verb *verb_find(const char *name);
void verb_usage(FILE *f, const struct verb *v);
/* Say that there is no command `name`, with the nearest one if it is a
 * likely typo.  Returns EXIT_USAGE. */
int verb_unknown(const char *name);

/* commands.c (info and list: inspect.c): the verbs (help aside, in
 * verbs.c).  Each returns an exit status. */
int cmd_new(const struct verb *v, const struct opts *o);
int cmd_write(const struct verb *v, const struct opts *o);
int cmd_read(const struct verb *v, const struct opts *o);
int cmd_wait(const struct verb *v, const struct opts *o);
int cmd_lock(const struct verb *v, const struct opts *o);
int cmd_save(const struct verb *v, const struct opts *o);
int cmd_remove(const struct verb *v, const struct opts *o);
int cmd_info(const struct verb *v, const struct opts *o);
int cmd_list(const struct verb *v, const struct opts *o);
int cmd_cat(const struct verb *v, const struct opts *o);

/* watch.c: the verbs and modes that watch maps for new contents (wait,
 * read --wait, read --follow), over one map or several. */
/* Wait for a content newer than --after's seq (default: the current one),
 * within --timeout; fills *ret_seq (may be NULL).  An exit status. */
int wait_newer(const char *verb, const char *name, mmf_t *m,
               const struct opts *o, uint64_t *ret_seq);
/* mmf read --follow over the maps named by o->args (m: the first, open,
 * which it closes); with several, each output is prefixed by its map's
 * name.  A map removed is the end, one replaced is followed anew. */
int read_follow(const struct verb *v, mmf_t *m, const struct opts *o);

/* guard.c: run cmd (argv, NULL-ended) in a guard process that shares the
 * caller's locked handle and kills the command and all it started if mmf
 * dies.  Returns the command's exit status (128 + signal when killed). */
int run_guarded(const char *name, char **cmd);
/* Note the signal dispositions and mask mmf was started with, which the
 * command gets back; first thing in main(). */
void signals_save(void);

/* args.c: parse argv (argv[0] is the verb) for verb v into *o.  Returns 0,
 * or -1 after reporting a usage error on stderr. */
int opts_parse(const struct verb *v, int argc, char **argv, struct opts *o);
/* args.c: command-line values.  Each returns 0 or -1 (bad value). */
int parse_size(const char *s, uint64_t *ret);
int parse_u64(const char *s, uint64_t *ret);
int parse_seconds(const char *s, int *ret_ms);
int parse_mode(const char *s, unsigned *ret);

/* output.c: which of fds 0-2 mmf was started without (main gave them
 * /dev/null): a closed stdin is no empty input, a closed stdout no place
 * for a result. */
extern bool std_closed[3];
/* output.c: standard output.  Bytes: each returns 0 or -errno. */
int write_out(const void *p, size_t len);
/* Print bytes [--offset, --offset + --length) of a raw map or file,
 * copied (write(2)) as it runs; the exit status, after a message if it
 * failed. */
int print_range(const char *verb, const char *name, mmf_t *m,
                const struct opts *o, const char *what);
void json_string(FILE *f, const char *s);
/* A content as JSON: {"seq":N,"length":N,"appended":B,"data":"..."}, with
 * "data_base64" instead when it is not UTF-8 text; "name" first unless
 * name is NULL. */
void print_content_json(FILE *f, const char *name, uint64_t seq,
                        uint64_t length, bool appended, const uint8_t *data,
                        size_t len);
/* print_content_json for the content [0, len) of the descriptor fd (a
 * snapshot), read in pieces: memory bounded whatever len.  0 or -errno. */
int print_content_json_fd(FILE *f, uint64_t seq, int fd, uint64_t len);
/* The same for the bytes [from, len) of fd, as print_content_json() with
 * name and appended. */
int print_range_json_fd(FILE *f, const char *name, uint64_t seq, uint64_t len,
                        bool appended, int fd, uint64_t from);
/* Who holds a map (mmf_holders): for `info`; NULL where not asked. */
struct holders {
  pid_t *pids; /* all n of them */
  size_t n;
  unsigned hidden;
};
/* One object of `info --json` and `list --json`; `path`: the name as given
 * when it is a file path (name_hex then encodes all of it), else NULL. */
void print_info_json(FILE *f, const struct mmf_info *in,
                     const struct holders *h, const char *path);
/* write --json: {"name", "length" (bytes written), "seq" (the seq this
 * write published; null for raw maps)}. */
void print_written_json(FILE *f, const char *name, uint64_t len, bool raw,
                        uint64_t seq);
/* wait --json: {"name", "seq"}. */
void print_wait_json(FILE *f, const char *name, uint64_t seq);
/* save --json: {"name", "file", "length" (the file's size, null if it
 * cannot be read)}. */
void print_saved_json(FILE *f, const char *name, const char *file);
/* remove --json: one object of the array, {"name", "removed", "error"}. */
void print_removed_json(FILE *f, bool first, const char *name, int code,
                        bool force);
/* A progress line on stderr, only on a terminal, at most 4 redraws a
 * second; `total` 0 when unknown. */
void progress(const char *verb, uint64_t done, uint64_t total, bool last);

/* The progress line of one long copy made between the two calls (total:
 * the bytes expected, 0 when unknown): on a terminal only, from a second
 * on, a few redraws a second, cleared by progress_end(). */
void progress_begin(const char *verb, uint64_t total);
void progress_end(void);

/* table.c: the columns of `list` and `info`, and their tables. */
#define TABLE_MAX_COLS 64
struct table_opts {
  bool given;                      /* any of -o, --noheadings, --raw, -n, -e */
  int cols[TABLE_MAX_COLS], ncols; /* -o; 0: the default columns */
  bool noheadings, raw, newline, export, bytes;
};
/* The columns of -o COLS (comma-separated, any case; "+COLS" adds to the
 * default ones).  0 or -1 for an unknown column. */
int table_parse_columns(const char *list, bool for_info, int *ret_cols,
                        int *ret_n);
/* "NAME, KIND, ...": every column, for messages. */
const char *table_column_names(void);
/* The column list with a line on each, for --help. */
void table_columns_help(FILE *f);
/* The rows as a table (libsmartcols); `info` without table options prints
 * one field a line.  h: the holders of rows[0] (info), or NULL.  0 or
 * -errno. */
int print_table(FILE *f, const struct mmf_info *rows, size_t n,
                const struct holders *h, const struct table_opts *t,
                bool for_info);
/* mmf, raw, file, or unknown when it could not be read. */
const char *kind_name(const struct mmf_info *in);
/* "" for a sound object; "orphaned", or why it could not be read. */
const char *state_text(const struct mmf_info *in);
const char *owner_name(uid_t uid, char *buf, size_t cap);
const char *iso_time(int64_t ns, char *buf, size_t cap);

/* msg.c: one line on stderr.  A usage error for verb v (NULL: none yet);
 * returns EXIT_USAGE. */
int usage_error(const struct verb *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A failure about `name` (a map, file or command) of verb `verb`; returns
 * EXIT_FAIL. */
int fail(const char *verb, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The library's description of code, or for common ones what to do. */
const char *hint(int code);
/* fail() with hint(code). */
int fail_code(const char *verb, const char *name, int code);
/* The message for a failure to reach the map `name`: a bad name is a usage
 * error, anything else fail_code().  Returns the exit status. */
int fail_map(const struct verb *v, const char *name, int code);

/* text.c */
/* The length of the valid UTF-8 sequence at p (1 for ASCII), or 0. */
size_t utf8_seq(const unsigned char *p);
bool utf8_valid(const char *s);
/* Text made safe for a terminal: control bytes, C1 controls and invalid
 * UTF-8 as \xNN. */
const char *printable(const char *s, char *buf, size_t cap);
/* A name (map, file, command) quoted as ls(1) and a shell would: bare when
 * plain, else in quotes with escapes; one line, no control byte. */
const char *quote_name(const char *s, char *buf, size_t cap);
/* Room for quote_name() of any map name (255 bytes) and most paths. */
#define QUOTED_MAX 4096
/* "64 KiB": v in the largest 1024-based unit, one decimal when not whole
 * (rounded down). */
const char *human_size(uint64_t v, char *buf, size_t cap);

#endif

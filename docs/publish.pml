/* SPDX-License-Identifier: MIT */
/*
 * Publication protocol of a map's whole content (FORMAT.md, "Publishing a
 * content" and "Reading a content"), as a Promela model for spin.
 * tests/spin.sh runs these checks, each exhaustive:
 *   spin -a publish.pml; cc -O2 -DSAFETY -DNOCLAIM -o pan pan.c; ./pan
 *     every assertion, and no invalid end state (nothing waits for ever);
 *   spin -a publish.pml; cc -O2 -o pan pan.c; ./pan -a
 *     claim `term`: the locking reader gets its copy on every run;
 *   the same safety run with -DRO given to spin: a read-only reader instead;
 *   and with -DTRIES=2: the reader then locks while a write is still to
 *     come, so a writer waits for a reader too (with 3 it never does);
 *   the same safety run with -DBUG_V1 given to spin: version 1, which did
 *     not void a slot's seq when opening it; spin must find a reader that
 *     accepts an aborted write, which shows that the assertions can fail.
 *
 * What is checked:
 *  (a) an accepted copy is one published content, whole: its cells and its
 *      len all carry one content id, that id was published, and with the
 *      seq the reader reports; aborted or unfinished writes never pass;
 *  (b) "corrupt" is never concluded: no peer scribbles in this model;
 *  (c) after TRIES failed tries, a reader that may take the lock reads under
 *      it once, and that read cannot fail: a read always completes.
 *
 * Processes: writer 1 can be killed at any step (it stops; a lock it held
 * is taken over), writer 2 cannot; NW writes in all, each of which may
 * abort at any point of its copy. One reader per run: reader 3 may take the
 * lock, reader 4 (-DRO) is read-only and retries without end (safety only).
 * Readers store nothing but the lock, and holding it only delays writers,
 * which they may be anyway, so a second reader would add no behaviour to
 * the others. A zero-copy view is the copy path with the cells read in
 * place: same checks. Each access to a shared word is one step: a reader
 * can be preempted between any two. Content ids: 0 the first (empty)
 * content, 1..NW the writes, GARBAGE slot 1's first bytes. A content's len
 * is modelled as its id, so a len of another write is caught like a cell.
 * NW is 4 because each failed try needs a commit then the reopening of the
 * reader's slot: with fewer writes the locked read is never reached.
 *
 * Memory order. Spin runs every step sequentially consistent (SC), which
 * is stronger than the C11 orderings that each step stands for:
 *  W1 state: acquire load, after the lock's acquire: the writer fills the
 *     slot that is not published. A lock taken over from a dead holder
 *     relies on death being seen through the kernel (exit, then the
 *     liveness check), which orders the dead holder's stores first.
 *  W2 gen odd, seq INVALID: relaxed stores, then a release fence, so a
 *     reader that sees a cell or len of this write, then its own acquire
 *     fence, sees gen changed (R5) and seq voided (R3).
 *  W4 seq relaxed, gen even release, state release.
 *  R1 state acquire; R2 gen acquire; R3 len and seq relaxed, acquire fence,
 *     gen again; R5 the cells, acquire fence, gen again.
 *  R4 calls an unchanged state corruption. That needs what made the try
 *     inconsistent to be ordered before the state load and to carry the
 *     writer's W1: R3's second gen load must be acquire (a relaxed load
 *     after the fence may be satisfied after the state load, as on ARMv8),
 *     and W2 needs a release fence before its stores as well as after (C11,
 *     POWER). Without them a reader can see a later write's gen or seq with
 *     the old state and report a race as corruption. SC hides both.
 */

#define NC        2    /* data cells per slot: two are enough to see a mix */
#ifndef NW
#define NW        4    /* writes in all, committed, aborted or cut short */
#endif
#ifndef TRIES
#define TRIES     3    /* READ_TRIES */
#endif
#define INVALID   255  /* a slot seq that no state names */
#define GARBAGE   (NW + 1)
#define KILLABLE  1    /* the writer that may be killed */

byte state = 0;              /* seq << 1 | slot */
byte gen[2];
byte slen[2];
byte sseq[2];                /* the slots' seq */
byte data[2 * NC];           /* cell i of slot s is data[s * NC + i] */
byte wlock = 0;              /* 0 free, else its holder's id */
bool alive[5];

/* Ghost state: which contents were published, with which seq. */
byte nwrites = 0;
bool published[NW + 2];
byte pubseq[NW + 2];
bool ldone = false;          /* the locking reader has its copy */

/* One step of writer `me`, or its death instead (writer KILLABLE only). */
#define STEP(x) \
  if \
  :: x \
  :: atomic { me == KILLABLE -> alive[me] = false; goto died } \
  fi

/* Free, or held by a dead process: a live holder makes the taker wait. */
#define LOCKABLE (wlock == 0 || !alive[wlock])

proctype writer(byte me)
{
  byte st, s, n, odd, id, i;

  do
  :: STEP(atomic { LOCKABLE && nwrites < NW ->
                   wlock = me; nwrites++; id = nwrites });
     /* W1: fill the slot that state does not name. */
     STEP(atomic { st = state; s = 1 - (st & 1); n = (st >> 1) + 1 });
     /* W2: a dead writer may have left gen odd: step to the next odd. */
     STEP(atomic { odd = gen[s] + 1 + (gen[s] & 1); gen[s] = odd });
#ifndef BUG_V1
     /* Voided now, so that a reader that saw state name this slot two
      * publications ago cannot match it, even if this write aborts. */
     STEP(sseq[s] = INVALID);
#endif
     /* W3, which may stop (abort) after any cell. */
     i = 0;
     do
     :: i < NC -> STEP(atomic { data[s * NC + i] = id; i++ })
     :: i < NC -> goto abort
     :: else -> break
     od;
     STEP(slen[s] = id);
     if
     :: true
     :: goto abort
     fi;
     /* W4a: commit. */
     STEP(sseq[s] = n);
     STEP(gen[s] = odd + 1);
     STEP(atomic { state = n << 1 | s; published[id] = true; pubseq[id] = n });
     STEP(wlock = 0);
     goto next;
abort: /* W4b: closed unpublished; seq stays INVALID, state untouched. */
     STEP(gen[s] = odd + 1);
     STEP(wlock = 0);
next:
     skip
  :: nwrites == NW -> break
  od;
died:
  skip
}

/* canlock: the handle may write, so after TRIES failed tries it reads once
 * under the lock. Otherwise it retries for ever (its real bound is time). */
proctype reader(byte me; bool canlock)
{
  byte st, s, want, g, l, q, i, c, tries = 0;
  byte cp[NC];
  bool locked = false;

again:
  /* R1 */
  atomic { st = state; s = st & 1; want = st >> 1 };
  /* R2 */
  atomic { g = gen[s]; if :: g & 1 -> goto inconsistent :: else fi };
  /* R3 */
  l = slen[s];
  q = sseq[s];
  if
  :: gen[s] != g || q != want -> goto inconsistent
  :: else
  fi;
  /* R5 */
  i = 0;
  do
  :: i < NC -> atomic { cp[i] = data[s * NC + i]; i++ }
  :: else -> break
  od;
  if
  :: gen[s] != g -> assert(!locked); goto retry   /* overtaken */
  :: else
  fi;
  /* Accepted: one content, whole, published with the seq reported. */
  d_step {
    c = cp[0];
    i = 1;
    do
    :: i < NC -> assert(cp[i] == c); i++
    :: else -> break
    od;
    assert(l == c);
    assert(c <= NW && published[c] && pubseq[c] == want)
  };
  if
  :: locked -> atomic { wlock = 0; ldone = true }
  :: !locked && canlock -> ldone = true
  :: else
  fi;
  goto out;

inconsistent:
  /* R4: with the lock held nothing moves; without it, an unchanged state
   * means the published slot itself is wrong. Both are corruption, which
   * no honest peer causes. */
  assert(!locked);
  assert(state != st);
retry:
  if
  :: !canlock -> goto again
  :: canlock && tries + 1 < TRIES -> tries++; goto again
  :: canlock && tries + 1 >= TRIES ->
     /* R6: wait for the lock like a writer, or take a dead holder's. */
     atomic { LOCKABLE -> wlock = me; locked = true };
     goto again
  fi;
out:
  skip
}

init {
  byte i;
  atomic {
    sseq[1] = INVALID;
    slen[1] = GARBAGE;
    do
    :: i < NC -> data[NC + i] = GARBAGE; i++
    :: else -> break
    od;
    published[0] = true;
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    run writer(1);
    run writer(2);
#ifdef RO
    run reader(4, false)
#else
    run reader(3, true)
#endif
  }
}

/* (c): the locking reader gets its copy on every run. */
ltl term { <> ldone }

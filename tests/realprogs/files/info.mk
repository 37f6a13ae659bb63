# No recipe runs: everything here is make's own text functions, so the
# case needs no child process.
WORDS := pear apple fig banana apple cherry
SRCS := main.c util.c lib/io.c lib/net.c
OBJS := $(patsubst %.c,build/%.o,$(SRCS))
$(info sorted: $(sort $(WORDS)))
$(info objects: $(OBJS))
$(info dirs: $(sort $(dir $(OBJS))))
$(info count: $(words $(WORDS)) first: $(firstword $(WORDS)) 2-3: $(wordlist 2,3,$(WORDS)))
$(info filtered: $(filter %.c,$(SRCS) notes.txt) out: $(filter-out lib/%,$(SRCS)))
$(foreach w,$(WORDS),$(info - $(w) $(if $(findstring an,$(w)),has-an,no)))
$(info subst: $(subst a,A,$(WORDS)) strip:[$(strip   a   b  )])
$(info exists: $(wildcard data.txt tree/*.txt) missing:[$(wildcard nope)])
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
$(info reversed:$(call reverse,1 2 3 4 5))
all: ; @:

# A small project whose rules call cp, sed, sort and cat: running it needs
# processes; `make -n` only prints the commands.
OUT := out
all: $(OUT)/report.txt
	cat $(OUT)/report.txt

$(OUT)/merged.txt: src/list1.txt src/list2.txt
	mkdir -p $(OUT)
	cat src/list1.txt src/list2.txt > $@

$(OUT)/sorted.txt: $(OUT)/merged.txt
	sort -k2 -n $< > $@

$(OUT)/report.txt: $(OUT)/sorted.txt
	sed -e 's/^/item: /' -e 's/ \([0-9]*\)$$/ = \1/' $< > $@
	cp $@ $(OUT)/report.bak

clean:
	rm -rf $(OUT)

.PHONY: all clean

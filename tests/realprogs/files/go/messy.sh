#!/bin/sh
# A script shfmt rewrites: spacing, indentation, case arms, functions.
greet ( ) {
echo   "hello, $1"  ;  }
if [ "$#" -gt 0 ] ;then
for a in "$@";do greet "$a";done
else
  greet world
fi
case "$1" in
a|b) echo ab;;
  *)   echo other
  ;;
esac
while read -r line; do   echo "$line" |   tr a-z A-Z ; done < /dev/null
x=$( echo  $(( 1+2 )) )
[ -n "$x" ]&&echo "$x"||echo none

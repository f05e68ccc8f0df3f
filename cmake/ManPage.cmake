# SPDX-License-Identifier: Apache-2.0
# cmake -DSCDOC=... -DSRC=page.N.scd -DOUT=page.N.gz -P ManPage.cmake: one man page, scdoc source
# to roff to gzip -9n (what Debian wants), from cmake/Packaging.cmake.
execute_process(COMMAND ${SCDOC} INPUT_FILE ${SRC} OUTPUT_VARIABLE roff RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "scdoc ${SRC} failed (${rc})")
endif()
# Never break a line inside an option name (--unshare-user-try): no hyphenation, and no break
# after a hyphen or minus sign.
string(REGEX REPLACE "(\n\\.TH [^\n]*\n)" "\\1.nh\n.cflags 0 -\\\\(hy\\\\(em\\\\-\n" roff "${roff}")
string(FIND "${roff}" ".cflags 0" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${SRC}: no .TH line in scdoc's output")
endif()
get_filename_component(dir ${OUT} DIRECTORY)
get_filename_component(name ${OUT} NAME_WLE)
file(MAKE_DIRECTORY ${dir})
file(WRITE ${dir}/${name} "${roff}")
execute_process(COMMAND gzip -9nf ${dir}/${name} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${dir}/${name} failed")
endif()

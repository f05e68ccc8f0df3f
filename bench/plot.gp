# SPDX-License-Identifier: Apache-2.0
# Latency per configuration, boxjail against bwrap, as root and as uid 65534, from the data file
# written by startup_bench (bars: median wall time to exit; whiskers: up to p99; dashed lines:
# the floors). Run by bench/run.sh:
#   gnuplot -e "datafile='bench/results/latency.dat'; outfile='bench/results/latency.png'; subtitle='...'" bench/plot.gp

if (!exists("datafile")) datafile = "bench/results/latency.dat"
if (!exists("outfile")) outfile = "bench/results/latency.png"
if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1400,620 font "sans,11"
set output outfile
set datafile missing "-"

set style data histograms
set style histogram errorbars gap 1 lw 1.2
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics lc rgb "#dddddd"
set key top left
set ylabel "wall time to exit (ms): median, whisker to p99"
set xtics nomirror font ",10"
set ytics nomirror
set border 3

# The floors: rows 0 (fork+exec true) and 1 (unshare -Urm true) of each block, column 6.
stats datafile index 0 every ::0::0 using 6 nooutput
root_true = STATS_max
stats datafile index 0 every ::1::1 using 6 nooutput
root_unshare = STATS_max
stats datafile index 1 every ::0::0 using 6 nooutput
nobody_true = STATS_max
stats datafile index 1 every ::1::1 using 6 nooutput
nobody_unshare = STATS_max
# The same scale for both panels: the largest p99 of either tool, as root or as uid 65534.
ymax = 0
do for [block = 0:1] {
  do for [col in "3 5"] {
    stats datafile index block every ::2 using int(col) nooutput
    ymax = STATS_max > ymax ? STATS_max : ymax
  }
}
set yrange [0:ymax * 1.25]
# Only the jail rows (from row 2) are bars.
stats datafile index 0 every ::2 using 0 nooutput
set xrange [-0.6:STATS_records - 0.4]

set multiplot layout 1,2 title "boxjail vs bwrap: start-up latency per configuration\n{/*0.8 ".subtitle."}"

do for [block = 0:1] {
  ftrue = block == 0 ? root_true : nobody_true
  funshare = block == 0 ? root_unshare : nobody_unshare
  set title (block == 0 ? "as root" : "as uid 65534")
  unset arrow
  unset label
  set arrow 1 from graph 0, first ftrue to graph 1, first ftrue nohead dt 2 lc rgb "#555555"
  set arrow 2 from graph 0, first funshare to graph 1, first funshare nohead dt 3 lc rgb "#aa3333"
  plot datafile index block every ::2 using 2:2:3:xtic(1) title "boxjail" lc rgb "#2e7d32", \
       '' index block every ::2 using 4:4:5 title "bwrap" lc rgb "#1565c0", \
       '' index block every ::2 using ($0 - 0.15):2:(sprintf("%.1f", $2)) with labels offset -0.4,0.6 font ",9" notitle, \
       '' index block every ::2 using ($0 + 0.15):4:(sprintf("%.1f", $4)) with labels offset 0.4,0.6 font ",9" notitle, \
       NaN with lines dt 2 lc rgb "#555555" title sprintf("fork+exec true: %.1f ms", ftrue), \
       NaN with lines dt 3 lc rgb "#aa3333" title sprintf("unshare -Urm true: %.1f ms", funshare)
}
unset multiplot

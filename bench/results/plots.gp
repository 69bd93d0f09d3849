set terminal pngcairo size 900,500 noenhanced
set grid
set key left top
set output 'bench/results/ready.png'
set title 'Connections Ready over time'
set xlabel 'seconds since daemon start'
set ylabel 'connections Ready'
plot 'bench/results/ready.dat' index 0 with lines lw 2 title 'cold (no throttling)', 'bench/results/ready.dat' index 1 with lines lw 2 title 'throttled'
set output 'bench/results/arm_calls.png'
set title 'ARM calls per second by method (cold convergence)'
set ylabel 'calls per second'
plot 'bench/results/arm_rate.dat' using 1:2 with lines lw 2 title 'GET', 'bench/results/arm_rate.dat' using 1:3 with lines lw 2 title 'PUT'

#!/bin/sh
# nsscript lab lan_test, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add h1
ip -n h1 link set lo up
ip netns add h2
ip -n h2 link set lo up
ip netns add h3
ip -n h3 link set lo up
ip netns add h4
ip -n h4 link set lo up

# bridges
ip link add lan0 address 3e:5a:c2:ce:3d:b2 group 1760705813 type bridge

# veth pairs
ip link add eth0 address ee:10:e5:5f:ab:70 numtxqueues 1 numrxqueues 1 netns h1 type veth peer name lan0-h1 address 82:b8:35:2a:53:ee numtxqueues 1 numrxqueues 1 group 1760705813
ip link set lan0-h1 master lan0
ip link add eth0 address 32:22:86:02:26:f9 numtxqueues 1 numrxqueues 1 netns h2 type veth peer name lan0-h2 address 06:dd:c4:a3:36:76 numtxqueues 1 numrxqueues 1 group 1760705813
ip link set lan0-h2 master lan0
ip link add eth0 address d6:4f:66:4d:11:77 numtxqueues 1 numrxqueues 1 netns h3 type veth peer name lan0-h3 address 1a:65:4f:88:97:85 numtxqueues 1 numrxqueues 1 group 1760705813
ip link set lan0-h3 master lan0
ip link add eth0 address 36:47:a7:ac:e3:97 numtxqueues 1 numrxqueues 1 netns h4 type veth peer name lan0-h4 address 5e:ef:5c:13:17:84 numtxqueues 1 numrxqueues 1 group 1760705813
ip link set lan0-h4 master lan0

# addresses
ip -n h1 addr add 10.0.0.1/16 brd + dev eth0
ip -n h1 addr add fd00::1/64 dev eth0 nodad
ip -n h2 addr add 10.0.0.2/16 brd + dev eth0
ip -n h2 addr add fd00::2/64 dev eth0 nodad
ip -n h3 addr add 10.0.0.3/16 brd + dev eth0
ip -n h3 addr add fd00::3/64 dev eth0 nodad
ip -n h4 addr add 10.0.0.4/16 brd + dev eth0
ip -n h4 addr add fd00::4/64 dev eth0 nodad

# links up
ip -n h1 link set eth0 up
ip link set lan0-h1 up
ip -n h2 link set eth0 up
ip link set lan0-h2 up
ip -n h3 link set eth0 up
ip link set lan0-h3 up
ip -n h4 link set eth0 up
ip link set lan0-h4 up
ip link set lan0 up

# neighbours
ip -n h1 neigh replace 10.0.0.2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h1 neigh replace fd00::2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h1 neigh replace 10.0.0.3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent
ip -n h1 neigh replace fd00::3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent
ip -n h1 neigh replace 10.0.0.4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h1 neigh replace fd00::4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h2 neigh replace fd00::1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent
ip -n h2 neigh replace fd00::3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h2 neigh replace fd00::4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h3 neigh replace fd00::1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h3 neigh replace fd00::2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h3 neigh replace fd00::4 lladdr 36:47:a7:ac:e3:97 dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h4 neigh replace fd00::1 lladdr ee:10:e5:5f:ab:70 dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h4 neigh replace fd00::2 lladdr 32:22:86:02:26:f9 dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent
ip -n h4 neigh replace fd00::3 lladdr d6:4f:66:4d:11:77 dev eth0 nud permanent

ip netns exec h1 ping -c 1 -W 1 10.0.0.2
ip netns exec h1 ping -c 1 -W 1 10.0.0.3
ip netns exec h1 ping -c 1 -W 1 10.0.0.4
ip netns exec h2 ping -c 1 -W 1 10.0.0.1
ip netns exec h2 ping -c 1 -W 1 10.0.0.3
ip netns exec h2 ping -c 1 -W 1 10.0.0.4
ip netns exec h3 ping -c 1 -W 1 10.0.0.1
ip netns exec h3 ping -c 1 -W 1 10.0.0.2
ip netns exec h3 ping -c 1 -W 1 10.0.0.4
ip netns exec h4 ping -c 1 -W 1 10.0.0.1
ip netns exec h4 ping -c 1 -W 1 10.0.0.2
ip netns exec h4 ping -c 1 -W 1 10.0.0.3

ip netns exec h1 ping -c 1 -W 1 10.0.0.2
ip netns exec h1 ping -c 1 -W 1 10.0.0.3
ip netns exec h1 ping -c 1 -W 1 10.0.0.4
ip netns exec h2 ping -c 1 -W 1 10.0.0.1
ip netns exec h2 ping -c 1 -W 1 10.0.0.3
ip netns exec h2 ping -c 1 -W 1 10.0.0.4
ip netns exec h3 ping -c 1 -W 1 10.0.0.1
ip netns exec h3 ping -c 1 -W 1 10.0.0.2
ip netns exec h3 ping -c 1 -W 1 10.0.0.4
ip netns exec h4 ping -c 1 -W 1 10.0.0.1
ip netns exec h4 ping -c 1 -W 1 10.0.0.2
ip netns exec h4 ping -c 1 -W 1 10.0.0.3

ip netns exec h1 ping -c 1 -W 1 fd00::2
ip netns exec h1 ping -c 1 -W 1 fd00::3
ip netns exec h1 ping -c 1 -W 1 fd00::4

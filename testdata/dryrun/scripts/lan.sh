#!/bin/sh
# nsscript lab lan, as printed by `nsscript run --dry-run`.
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
ip link add lan0 address d6:9f:8a:c4:29:da group 1299893352 type bridge

# veth pairs
ip link add eth0 address 16:cd:bb:11:bb:31 numtxqueues 1 numrxqueues 1 netns h1 type veth peer name lan0-h1 address 66:82:db:96:76:9c numtxqueues 1 numrxqueues 1 group 1299893352
ip link set lan0-h1 master lan0
ip link add eth0 address be:80:1b:b5:6a:0f numtxqueues 1 numrxqueues 1 netns h2 type veth peer name lan0-h2 address 0a:a7:12:2a:e8:99 numtxqueues 1 numrxqueues 1 group 1299893352
ip link set lan0-h2 master lan0
ip link add eth0 address ae:d5:63:51:c7:5f numtxqueues 1 numrxqueues 1 netns h3 type veth peer name lan0-h3 address 1e:d6:38:df:ec:cf numtxqueues 1 numrxqueues 1 group 1299893352
ip link set lan0-h3 master lan0
ip link add eth0 address b2:d1:61:59:15:00 numtxqueues 1 numrxqueues 1 netns h4 type veth peer name lan0-h4 address 62:0a:2b:ce:13:b4 numtxqueues 1 numrxqueues 1 group 1299893352
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
ip -n h1 neigh replace 10.0.0.2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h1 neigh replace fd00::2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h1 neigh replace 10.0.0.3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent
ip -n h1 neigh replace fd00::3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent
ip -n h1 neigh replace 10.0.0.4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h1 neigh replace fd00::4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h2 neigh replace fd00::1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent
ip -n h2 neigh replace fd00::3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent
ip -n h2 neigh replace 10.0.0.4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h2 neigh replace fd00::4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h3 neigh replace fd00::1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h3 neigh replace fd00::2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h3 neigh replace 10.0.0.4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h3 neigh replace fd00::4 lladdr b2:d1:61:59:15:00 dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h4 neigh replace fd00::1 lladdr 16:cd:bb:11:bb:31 dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h4 neigh replace fd00::2 lladdr be:80:1b:b5:6a:0f dev eth0 nud permanent
ip -n h4 neigh replace 10.0.0.3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent
ip -n h4 neigh replace fd00::3 lladdr ae:d5:63:51:c7:5f dev eth0 nud permanent

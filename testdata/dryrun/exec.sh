#!/bin/sh
# nsscript lab exec, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up

# veth pairs
ip link add red-blue address d6:79:c8:73:fb:33 numtxqueues 1 numrxqueues 1 netns red type veth peer name blue-red address 26:88:2e:bf:3b:f0 numtxqueues 1 numrxqueues 1 netns blue

# addresses
ip -n red addr add 10.0.0.1/24 brd + dev red-blue
ip -n blue addr add 10.0.0.2/24 brd + dev blue-red

# links up
ip -n red link set red-blue up
ip -n blue link set blue-red up

ip netns exec red ping -c 1 10.0.0.2

# routes
ip -n blue route add default via 10.0.0.1

ip netns exec blue ip route show table main

/bin/sh -c 'ip netns list | sort'

ip netns exec red /bin/sh -c 'echo "it'\''s"; echo '\''quoted'\'' $HOME'

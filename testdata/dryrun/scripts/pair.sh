#!/bin/sh
# nsscript lab pair, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up

# veth pairs
ip link add veth-red address 8a:03:10:3d:5c:46 numtxqueues 1 numrxqueues 1 netns red type veth peer name veth-blue address 9a:f2:1b:b6:73:a5 numtxqueues 1 numrxqueues 1 netns blue

# addresses
ip -n red addr add 10.0.1.0/16 brd + dev veth-red
ip -n blue addr add 10.0.2.0/16 brd + dev veth-blue

# links up
ip -n red link set veth-red up
ip -n blue link set veth-blue up

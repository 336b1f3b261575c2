package topo

import "testing"

func TestLinkGroup(t *testing.T) {
	seen := map[uint32]string{}
	for _, name := range []string{"a", "b", "lab", "bench", "pair", "pair2", "x-y_z"} {
		g := LinkGroup(name)
		if g < 1<<30 || g >= 1<<31 {
			t.Errorf("LinkGroup(%q) = %d, outside [2^30, 2^31)", name, g)
		}
		if g != LinkGroup(name) {
			t.Errorf("LinkGroup(%q) changes between calls", name)
		}
		if other, ok := seen[g]; ok {
			t.Errorf("LinkGroup(%q) = LinkGroup(%q) = %d", name, other, g)
		}
		seen[g] = name
	}
}

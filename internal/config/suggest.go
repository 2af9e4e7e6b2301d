package config

import "strings"

// Suggest returns the candidate that word was most likely meant to be, or ""
// when none is close enough to be worth a "did you mean". It serves every
// place where a user types a name that must be one of a known set: keys of
// feeds.yaml, cron descriptors, source names on the command line.
//
// A candidate is close when, ignoring case, it is at most two edits away
// (insertions, deletions, substitutions and swaps of two neighbouring
// characters; only one edit for words of three characters or fewer, where
// two edits turn anything into anything), or when word is the start of it
// and at least three characters long ("sched" for "schedule"). The closest
// candidate wins; between equally close ones, the first in candidates. A
// word that is itself a candidate gets no suggestion.
func Suggest(word string, candidates []string) string {
	w := strings.ToLower(word)
	if w == "" {
		return ""
	}
	maxDist := 2
	if len([]rune(w)) <= 3 {
		maxDist = 1
	}
	best, bestDist := "", maxDist+1
	prefix := ""
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if c == word {
			return ""
		}
		if d := editDistance(w, lc, bestDist); d < bestDist {
			best, bestDist = c, d
		}
		if prefix == "" && len(w) >= 3 && strings.HasPrefix(lc, w) {
			prefix = c
		}
	}
	if best != "" {
		return best
	}
	return prefix
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein's edits plus swapping two neighbouring characters), counted
// in runes. Once the distance is known to reach limit it stops and returns
// limit: callers only care about distances below it, and a long hostile
// word must not cost a full table.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	// Three rows of the table: two back (for swaps), the previous, this.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], limit)
}

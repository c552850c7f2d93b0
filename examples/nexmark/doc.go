// Command nexmark runs a Nexmark-style "hot items" query (Nexmark query 5) on a
// generated stream of bids: in every sliding window, which auction got the most
// bids?
//
//	nexmark [--events N] [--auctions A] [--window-size MS] [--window-slide MS]
//	        [--bids-per-second R] [--rate R] [--parallelism P]
//
// Bids are generated deterministically: bid i is for auction hash(i) mod A at
// event time i*1000/R ms. Each output line is "window_end,auction,bids" for the
// hottest auction of a window (the smallest auction id on a tie). --rate limits
// the generator's real speed (records per second, 0 = as fast as possible).
package main

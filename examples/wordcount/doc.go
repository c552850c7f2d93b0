// Command wordcount counts the words of a text: the "hello world" of Spate.
//
//	wordcount --input PATH [--output DIR] [--parallelism N]
//
// A word is a maximal run of Unicode letters or digits, lowercased. The result is
// one line per distinct word, "word count", printed to stdout, or written to part
// files under DIR with --output. PATH is a file or a directory of files.
package main

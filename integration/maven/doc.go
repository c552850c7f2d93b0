// Package maven builds the test suite's small Maven modules (the Hadoop
// launcher in integration/hadoop, the Flink jobs in integration/bench/flink)
// once per machine and hands back their class path. A module is rebuilt only
// when its pom.xml or a file under src/ is newer than target/cp.txt, under a
// lock so that test binaries started together do not run Maven on it at once.
package maven

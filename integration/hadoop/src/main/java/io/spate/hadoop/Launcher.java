package io.spate.hadoop;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.minikdc.MiniKdc;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * Starts a KDC, HDFS and YARN in this JVM for Spate's tests, writes the client
 * configuration into a directory, prints one ready line on stdout and runs
 * until SIGTERM (or, with --stdin-lifeline, until its standard input closes).
 *
 * <p>Order: MiniKdc, principals and keytabs, the daemons' keytab login, then
 * MiniDFSCluster, then MiniYARNCluster; --insecure leaves out the KDC and every
 * security key. The layout of the directory:
 *
 * <pre>
 *   conf/core-site.xml hdfs-site.xml yarn-site.xml krb5.conf   (HADOOP_CONF_DIR, KRB5_CONFIG)
 *   keytabs/service.keytab   the daemons' principal, OSUSER/localhost@REALM
 *   keytabs/spate.keytab     the client principal spate@REALM
 *   keytabs/intruder.keytab  intruder@REALM: a valid principal that owns nothing
 *   krb5cc_spate             a ticket cache for spate@REALM (KRB5CCNAME)
 *   ready                    the ready line, written last; removed on stop
 *   work/                    the clusters' data and logs
 * </pre>
 *
 * <p>The ready line is {@code SPATE-HADOOP-READY key=value ...}; values never
 * contain spaces (a directory with spaces is refused).
 */
public final class Launcher {
    /** The prefix of the one line a caller waits for. */
    static final String READY = "SPATE-HADOOP-READY";
    /** The prefixes of a control command's one-line reply on stdout. */
    static final String OK = "SPATE-HADOOP-OK", ERR = "SPATE-HADOOP-ERR";

    /** How long YARN, then HDFS, may take to stop before we exit anyway. */
    static final long YARN_STOP_MILLIS = 4_000, HDFS_STOP_MILLIS = 8_000;

    private final Options opts;
    private volatile MiniKdc kdc;
    private volatile MiniDFSCluster dfs;
    private volatile MiniYARNCluster yarn;
    private volatile PrintStream stdout;
    private volatile boolean ready;
    private final Map<Integer, MiniDFSCluster.DataNodeProperties> stoppedDataNodes = new java.util.HashMap<>();
    private final Map<Integer, org.apache.hadoop.hdfs.protocol.DatanodeID> stoppedDataNodeIds = new java.util.HashMap<>();
    /** The DataNodes' transfer addresses at start: their identity for control commands. */
    private final java.util.List<String> dataNodeAddrs = new java.util.ArrayList<>();
    private boolean stopped;

    private Launcher(Options opts) {
        this.opts = opts;
    }

    public static void main(String[] args) {
        // stdout carries only the ready line; everything else goes to stderr.
        PrintStream stdout = System.out;
        System.setOut(System.err);
        Options opts;
        try {
            opts = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("spate-hadoop: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        Launcher l = new Launcher(opts);
        l.stdout = stdout;
        // Stop on a signal from a normal thread rather than from a JVM
        // shutdown hook: Hadoop's daemons remove shutdown hooks while they
        // stop, which fails once the JVM is shutting down.
        for (String sig : new String[] {"TERM", "INT", "HUP"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> l.exit(0, "SIG" + sig));
        }
        if (opts.stdinLifeline) {
            // From the start: a parent that dies while we start stops us too.
            l.watchStdin();
        }
        try {
            String line = l.start();
            l.ready = true; // before the line: a caller may send a command as soon as it reads it
            synchronized (stdout) {
                stdout.println(line);
                stdout.flush();
            }
        } catch (Throwable t) {
            // A failed start leaves non-daemon threads behind and the JVM would
            // hang: stop what started and exit.
            System.err.println("spate-hadoop: start failed: " + t);
            t.printStackTrace();
            l.exit(1, "start failed");
        }
    }

    /**
     * Runs the control commands read from standard input, one a line, once
     * the cluster is ready, and exits when standard input reaches EOF: the
     * parent has gone. Each command gets one reply line on stdout, OK or ERR
     * followed by the command.
     */
    private void watchStdin() {
        Thread t = new Thread(() -> {
            try {
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    line = line.trim();
                    if (!line.isEmpty()) {
                        reply(line, control(line));
                    }
                }
            } catch (IOException e) {
                // A broken pipe is an EOF too.
            }
            exit(0, "standard input closed");
        }, "spate-hadoop-stdin");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Stops everything, each part with a bounded wait, and exits with code.
     * Safe to call from several threads: the first caller stops, the others
     * wait for it.
     */
    private void exit(int code, String why) {
        System.err.println("spate-hadoop: " + why + ", stopping");
        stop();
        // Hadoop's own shutdown hooks run on exit; do not let one hang us.
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(3_000);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(code);
        }, "spate-hadoop-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(code);
    }

    private void reply(String command, String error) {
        synchronized (stdout) {
            stdout.println(error == null ? OK + " " + command : ERR + " " + command + ": " + error.replace('\n', ' '));
            stdout.flush();
        }
    }

    /**
     * Runs one control command and returns null, or what went wrong:
     * {@code stop-datanode I} stops DataNode I (the NameNode goes on placing
     * blocks on it until it misses heartbeats for about ten minutes, as on a
     * real cluster); {@code dead-datanode I} has the NameNode count a stopped
     * DataNode dead at once, so new blocks go to the others;
     * {@code restart-datanode I} starts it again on its old storage and waits
     * until the cluster is active.
     */
    private synchronized String control(String line) {
        if (!ready) {
            return "the cluster is not ready";
        }
        String[] f = line.split("\\s+");
        try {
            switch (f[0]) {
                case "stop-datanode" -> {
                    int i = dataNodeIndex(f);
                    if (stoppedDataNodes.containsKey(i)) {
                        return "DataNode " + i + " is stopped already";
                    }
                    int j = currentDataNodeIndex(i);
                    var id = dfs.getDataNodes().get(j).getDatanodeId();
                    MiniDFSCluster.DataNodeProperties props = dfs.stopDataNode(j);
                    stoppedDataNodes.put(i, props);
                    stoppedDataNodeIds.put(i, id);
                    System.err.println("spate-hadoop: stopped DataNode " + i + " (" + id + ")");
                }
                case "dead-datanode" -> {
                    int i = dataNodeIndex(f);
                    var id = stoppedDataNodeIds.get(i);
                    if (id == null) {
                        return "DataNode " + i + " is not stopped";
                    }
                    dfs.setDataNodeDead(id);
                    System.err.println("spate-hadoop: DataNode " + i + " counted dead");
                }
                case "restart-datanode" -> {
                    int i = dataNodeIndex(f);
                    MiniDFSCluster.DataNodeProperties props = stoppedDataNodes.remove(i);
                    if (props == null) {
                        return "DataNode " + i + " is not stopped";
                    }
                    stoppedDataNodeIds.remove(i);
                    dfs.restartDataNode(props, true);
                    dfs.waitActive();
                    dfs.triggerHeartbeats();
                    System.err.println("spate-hadoop: restarted DataNode " + i);
                }
                default -> {
                    return "unknown command (want stop-datanode I, dead-datanode I or restart-datanode I)";
                }
            }
            return null;
        } catch (Exception e) {
            e.printStackTrace();
            return e.toString();
        }
    }

    /**
     * Where DataNode i (as numbered at start) is in MiniDFSCluster's list,
     * which stopDataNode shortens and restartDataNode appends to.
     */
    private int currentDataNodeIndex(int i) {
        var dns = dfs.getDataNodes();
        for (int j = 0; j < dns.size(); j++) {
            if (dns.get(j).getDatanodeId().getXferAddr().equals(dataNodeAddrs.get(i))) {
                return j;
            }
        }
        throw new IllegalStateException("DataNode " + i + " (" + dataNodeAddrs.get(i) + ") is not running");
    }

    /** The index argument of a DataNode command; stopped ones keep theirs. */
    private int dataNodeIndex(String[] f) {
        if (f.length != 2 || !f[1].matches("\\d+")) {
            throw new IllegalArgumentException(f[0] + " needs one DataNode index");
        }
        int i = Integer.parseInt(f[1]);
        if (i >= opts.dataNodes) {
            throw new IllegalArgumentException("there are " + opts.dataNodes + " DataNodes, numbered from 0");
        }
        return i;
    }

    private String start() throws Exception {
        long t0 = System.nanoTime();
        File dir = opts.dir;
        File confDir = new File(dir, "conf"), keytabs = new File(dir, "keytabs"), work = new File(dir, "work");
        for (File d : new File[] {confDir, keytabs, work}) {
            if (!d.isDirectory() && !d.mkdirs()) {
                throw new IOException("cannot create " + d);
            }
        }
        Files.deleteIfExists(new File(dir, "ready").toPath());
        deleteTree(new File(work, "data").toPath());
        // The NodeManager's in-JVM localizer builds a fresh YarnConfiguration
        // that sees only the *-site.xml on the class path: put conf/ there
        // before anything starts, or secure localization from hdfs:// fails.
        Thread.currentThread().setContextClassLoader(
                new URLClassLoader(new URL[] {confDir.toURI().toURL()}, Launcher.class.getClassLoader()));
        // MiniYARNCluster and GenericTestUtils put their files under this.
        System.setProperty("test.build.data", new File(work, "data").getAbsolutePath());
        System.setProperty("hadoop.tmp.dir", new File(work, "tmp").getAbsolutePath());

        String osUser = System.getProperty("user.name");
        Map<String, String> core = new LinkedHashMap<>(), hdfsSite = new LinkedHashMap<>(), yarnSite = new LinkedHashMap<>();
        core.put("hadoop.user.group.static.mapping.overrides",
                "dr.who=;" + osUser + "=" + osUser + ";spate=spate;intruder=intruder");
        hdfsSite.put("dfs.replication", Integer.toString(Math.min(3, opts.dataNodes)));
        // --core: after our defaults, so a test may override them.
        yarnSite.put("yarn.scheduler.minimum-allocation-mb", "64");
        yarnSite.put("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
        yarnSite.put("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "99.5");
        yarnSite.put("yarn.scheduler.include-port-in-node-name", "true");

        core.putAll(opts.core);
        Map<String, String> ready = new LinkedHashMap<>();
        ready.put("dir", dir.getAbsolutePath());
        ready.put("conf", confDir.getAbsolutePath());
        ready.put("secure", Boolean.toString(!opts.insecure));

        File krb5 = new File(confDir, "krb5.conf");
        if (opts.insecure) {
            core.put("hadoop.security.authentication", "simple");
            Files.deleteIfExists(krb5.toPath());
            ready.put("user", "spate");
        } else {
            Properties kconf = MiniKdc.createConf();
            kconf.setProperty(MiniKdc.ORG_NAME, "SPATE");
            kconf.setProperty(MiniKdc.ORG_DOMAIN, "TEST");
            if (opts.maxTicketLifetimeSeconds > 0) {
                String ms = Long.toString(opts.maxTicketLifetimeSeconds * 1000);
                kconf.setProperty(MiniKdc.MAX_TICKET_LIFETIME, ms);
                kconf.setProperty(MiniKdc.MAX_RENEWABLE_LIFETIME, ms);
            }
            File kdcDir = new File(work, "kdc");
            deleteTree(kdcDir.toPath());
            kdcDir.mkdirs();
            kdc = new MiniKdc(kconf, kdcDir);
            kdc.start();
            progress("kdc", t0);
            String realm = kdc.getRealm();
            String service = osUser + "/localhost";
            File serviceKeytab = new File(keytabs, "service.keytab");
            File userKeytab = new File(keytabs, "spate.keytab");
            File otherKeytab = new File(keytabs, "intruder.keytab");
            for (File f : new File[] {serviceKeytab, userKeytab, otherKeytab}) {
                Files.deleteIfExists(f.toPath());
            }
            kdc.createPrincipal(serviceKeytab, service);
            kdc.createPrincipal(userKeytab, "spate");
            kdc.createPrincipal(otherKeytab, "intruder");
            Files.copy(kdc.getKrb5conf().toPath(), krb5.toPath(), StandardCopyOption.REPLACE_EXISTING);

            String servicePrincipal = service + "@" + realm;
            core.put("hadoop.security.authentication", "kerberos");
            core.put("hadoop.rpc.protection", "authentication");
            hdfsSite.put("dfs.namenode.kerberos.principal", servicePrincipal);
            hdfsSite.put("dfs.namenode.keytab.file", serviceKeytab.getAbsolutePath());
            hdfsSite.put("dfs.datanode.kerberos.principal", servicePrincipal);
            hdfsSite.put("dfs.datanode.keytab.file", serviceKeytab.getAbsolutePath());
            hdfsSite.put("dfs.block.access.token.enable", "true");
            hdfsSite.put("ignore.secure.ports.for.testing", "true");
            hdfsSite.put("dfs.data.transfer.protection", "authentication");
            yarnSite.put("yarn.resourcemanager.principal", servicePrincipal);
            yarnSite.put("yarn.resourcemanager.keytab", serviceKeytab.getAbsolutePath());

            ready.put("realm", realm);
            ready.put("kdc", kdc.getHost() + ":" + kdc.getPort());
            ready.put("krb5", krb5.getAbsolutePath());
            ready.put("principal", "spate@" + realm);
            ready.put("keytab", userKeytab.getAbsolutePath());
            ready.put("other.principal", "intruder@" + realm);
            ready.put("other.keytab", otherKeytab.getAbsolutePath());
            ready.put("service.principal", servicePrincipal);
            File ccache = new File(dir, "krb5cc_spate");
            if (writeTicketCache("spate@" + realm, userKeytab, ccache)) {
                ready.put("ccache", ccache.getAbsolutePath());
            }
        }

        Configuration conf = new YarnConfiguration();
        for (Map<String, String> m : java.util.List.of(core, hdfsSite, yarnSite)) {
            m.forEach(conf::set);
        }
        // What the daemons read from the class path must agree with conf.
        writeSite(new File(confDir, "core-site.xml"), core);
        writeSite(new File(confDir, "hdfs-site.xml"), hdfsSite);
        writeSite(new File(confDir, "yarn-site.xml"), yarnSite);

        if (!opts.insecure) {
            // Keep this login: MiniYARNCluster's daemons skip their own.
            UserGroupInformation.setConfiguration(conf);
            UserGroupInformation.loginUserFromKeytab(ready.get("service.principal"),
                    new File(keytabs, "service.keytab").getAbsolutePath());
        }

        dfs = new MiniDFSCluster.Builder(conf, new File(work, "dfs"))
                .numDataNodes(opts.dataNodes)
                .build();
        dfs.waitActive();
        for (var dn : dfs.getDataNodes()) {
            dataNodeAddrs.add(dn.getDatanodeId().getXferAddr());
        }
        progress("hdfs", t0);
        int nnPort = dfs.getNameNodePort();
        String defaultFS = "hdfs://localhost:" + nnPort;
        core.put("fs.defaultFS", defaultFS);
        hdfsSite.put("dfs.namenode.rpc-address", "localhost:" + nnPort);
        conf.set("fs.defaultFS", defaultFS);
        prepareHdfs();

        yarn = new MiniYARNCluster("spate", opts.nodeManagers, 1, 1);
        yarn.init(conf);
        yarn.start();
        Configuration yconf = yarn.getConfig();
        String rm = pollRMAddress(yconf, 10_000);
        progress("yarn", t0);
        for (String key : new String[] {
                YarnConfiguration.RM_ADDRESS,
                YarnConfiguration.RM_SCHEDULER_ADDRESS,
                YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS,
                YarnConfiguration.RM_ADMIN_ADDRESS,
                YarnConfiguration.RM_WEBAPP_ADDRESS}) {
            String v = yconf.get(key);
            if (v != null) {
                yarnSite.put(key, v);
            }
        }
        writeSite(new File(confDir, "core-site.xml"), core);
        writeSite(new File(confDir, "hdfs-site.xml"), hdfsSite);
        writeSite(new File(confDir, "yarn-site.xml"), yarnSite);

        ready.put("fs.defaultFS", defaultFS);
        ready.put("rm", rm);
        ready.put("startup.ms", Long.toString((System.nanoTime() - t0) / 1_000_000));
        StringBuilder line = new StringBuilder(READY);
        ready.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        writeAtomically(new File(dir, "ready"), line + "\n");
        return line.toString();
    }

    private static void progress(String what, long t0) {
        System.err.printf("spate-hadoop: %s up at %d ms%n", what, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Makes /tmp world-writable and gives spate a home, as a real cluster would. */
    private void prepareHdfs() throws IOException {
        FileSystem fs = dfs.getFileSystem();
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path("/tmp");
        fs.mkdirs(tmp);
        fs.setPermission(tmp, new FsPermission((short) 01777));
        org.apache.hadoop.fs.Path home = new org.apache.hadoop.fs.Path("/user/spate");
        fs.mkdirs(home);
        fs.setOwner(home, "spate", "spate");
    }

    /** Waits until the ResourceManager's address has its real port. */
    private static String pollRMAddress(Configuration conf, long timeoutMillis) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            String rm = conf.get(YarnConfiguration.RM_ADDRESS);
            if (rm != null && !rm.endsWith(":0")) {
                return rm;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the ResourceManager's address is still " + rm
                        + " after " + timeoutMillis + " ms");
            }
            Thread.sleep(50);
        }
    }

    /** Writes a credential cache for principal from its keytab; false if it cannot. */
    private boolean writeTicketCache(String principal, File keytab, File ccache) {
        try {
            Object simple = kdcServer();
            Object client = simple.getClass().getMethod("getKrbClient").invoke(simple);
            Object tgt = client.getClass().getMethod("requestTgt", String.class, File.class)
                    .invoke(client, principal, keytab);
            Files.deleteIfExists(ccache.toPath());
            for (var m : client.getClass().getMethods()) {
                if (m.getName().equals("storeTicket") && m.getParameterTypes()[0].isInstance(tgt)) {
                    m.invoke(client, tgt, ccache);
                    return true;
                }
            }
            System.err.println("spate-hadoop: no storeTicket method: skipping the ticket cache");
        } catch (Exception e) {
            System.err.println("spate-hadoop: cannot write the ticket cache " + ccache + ": " + e);
        }
        return false;
    }

    /** MiniKdc's Kerby server: MiniKdc offers no accessor, and stop() sleeps a second. */
    private Object kdcServer() throws ReflectiveOperationException {
        Field f = MiniKdc.class.getDeclaredField("simpleKdc");
        f.setAccessible(true);
        return f.get(kdc);
    }

    /** Stops YARN, HDFS and the KDC, each with a bounded wait; once. */
    private synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        long t0 = System.nanoTime();
        try {
            Files.deleteIfExists(new File(opts.dir, "ready").toPath());
        } catch (IOException e) {
            // Nothing to do: the next start removes it.
        }
        if (yarn != null) {
            // Once an application ran, two NodeManager services wait 10 s each;
            // containers are killed by the time the cap expires.
            bounded("yarn", YARN_STOP_MILLIS, yarn::stop);
        }
        if (dfs != null) {
            bounded("hdfs", HDFS_STOP_MILLIS, dfs::shutdown);
        }
        if (kdc != null) {
            bounded("kdc", 2_000, () -> {
                try {
                    Object simple = kdcServer();
                    simple.getClass().getMethod("stop").invoke(simple);
                } catch (ReflectiveOperationException e) {
                    System.err.println("spate-hadoop: kdc stop: " + e);
                }
            });
        }
        System.err.printf("spate-hadoop: stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        System.err.flush();
    }

    private static void bounded(String what, long millis, Runnable r) {
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                System.err.println("spate-hadoop: " + what + " stop: " + e);
            }
        }, "spate-hadoop-stop-" + what);
        t.setDaemon(true);
        t.start();
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            System.err.printf("spate-hadoop: %s did not stop within %d ms; going on%n", what, millis);
        }
    }

    /** Writes a Hadoop *-site.xml with exactly these properties. */
    private static void writeSite(File f, Map<String, String> props) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append("<!-- Written by Spate's test Hadoop launcher (integration/hadoop). -->\n");
        b.append("<configuration>\n");
        props.forEach((k, v) -> b.append("  <property><name>").append(xml(k)).append("</name><value>")
                .append(xml(v)).append("</value></property>\n"));
        b.append("</configuration>\n");
        writeAtomically(f, b.toString());
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void writeAtomically(File f, String content) throws IOException {
        Path tmp = f.toPath().resolveSibling("." + f.getName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        Files.move(tmp, f.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** The command line. */
    static final class Options {
        static final String USAGE = "usage: Launcher --dir DIR [--insecure] [--stdin-lifeline]"
                + " [--datanodes N] [--nodemanagers N] [--max-ticket-lifetime SECONDS] [--core KEY=VALUE]...";

        File dir;
        boolean insecure, stdinLifeline;
        int dataNodes = 1, nodeManagers = 1;
        long maxTicketLifetimeSeconds;
        final Map<String, String> core = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--insecure" -> o.insecure = true;
                    case "--stdin-lifeline" -> o.stdinLifeline = true;
                    case "--dir" -> o.dir = new File(value(args, ++i, a)).getAbsoluteFile();
                    case "--datanodes" -> o.dataNodes = positive(value(args, ++i, a), a);
                    case "--nodemanagers" -> o.nodeManagers = positive(value(args, ++i, a), a);
                    case "--max-ticket-lifetime" -> o.maxTicketLifetimeSeconds = positive(value(args, ++i, a), a);
                    case "--core" -> {
                        String kv = value(args, ++i, a);
                        int eq = kv.indexOf('=');
                        if (eq < 1) {
                            throw new IllegalArgumentException("--core needs KEY=VALUE, got \"" + kv + "\"");
                        }
                        o.core.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + a);
                }
            }
            if (o.dir == null) {
                throw new IllegalArgumentException("--dir is required");
            }
            if (o.dir.getPath().matches(".*\\s.*")) {
                throw new IllegalArgumentException("the directory " + o.dir
                        + " contains white space, which the ready line cannot carry: choose another");
            }
            return o;
        }

        private static String value(String[] args, int i, String flag) {
            if (i >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args[i];
        }

        private static int positive(String v, String flag) {
            try {
                int n = Integer.parseInt(v);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // Reported below.
            }
            throw new IllegalArgumentException(flag + " must be a positive integer, got \"" + v + "\"");
        }
    }
}

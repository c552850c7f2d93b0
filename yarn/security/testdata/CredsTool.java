// Reads and writes Hadoop credentials files with Hadoop's own Credentials
// class, for credentials_java_test.go. Run as a single-file program:
//   java -cp HADOOP_CLASSPATH CredsTool.java read:FILE write0:FILE write1:FILE ...
// Each read prints "== FILE" and then what it read; one JVM runs them all.
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenIdentifier;

public class CredsTool {
    static byte[] nines(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 9);
        return b;
    }

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            String[] op = a.split(":", 2);
            run(op[0], op[1]);
        }
    }

    static void run(String op, String file) throws Exception {
        HexFormat hex = HexFormat.of();
        if (op.equals("read")) {
            System.out.println("== " + file);
            Credentials c = new Credentials();
            try (DataInputStream in = new DataInputStream(new FileInputStream(file))) {
                c.readTokenStorageStream(in);
            }
            List<String> lines = new ArrayList<>();
            for (Text alias : c.getAllTokens().isEmpty() ? new ArrayList<Text>() : c.getTokenMap().keySet()) {
                Token<? extends TokenIdentifier> t = c.getToken(alias);
                lines.add("token " + alias + " " + t.getKind() + " " + t.getService() + " "
                        + hex.formatHex(t.getIdentifier()) + " " + hex.formatHex(t.getPassword()));
            }
            for (Text alias : c.getAllSecretKeys()) {
                lines.add("secret " + alias + " " + hex.formatHex(c.getSecretKey(alias)));
            }
            Collections.sort(lines);
            for (String l : lines) {
                System.out.println(l);
            }
        } else {
            Credentials c = new Credentials();
            c.addToken(new Text("127.0.0.1:8030"), new Token<TokenIdentifier>(new byte[] {1, 2, 3}, "pw".getBytes(),
                    new Text("YARN_AM_RM_TOKEN"), new Text("127.0.0.1:8030")));
            c.addToken(new Text("hdfs"), new Token<TokenIdentifier>(nines(200), new byte[0],
                    new Text("HDFS_DELEGATION_TOKEN"), new Text("ha-hdfs:ns")));
            c.addSecretKey(new Text("key"), "secret".getBytes());
            Credentials.SerializedFormat f = op.equals("write1") ? Credentials.SerializedFormat.PROTOBUF
                    : Credentials.SerializedFormat.WRITABLE;
            try (DataOutputStream out = new DataOutputStream(new FileOutputStream(file))) {
                c.writeTokenStorageToStream(out, f);
            }
        }
    }
}

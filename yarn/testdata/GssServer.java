// A SASL GSSAPI server from the JDK (the acceptor Hadoop's RPC server
// uses), for gss_java_integration_test.go: it logs in from a keytab, runs
// the exchange with tokens in hex, one per line, on stdin/stdout, then
// unwraps one message and wraps a reply at the negotiated QOP.
//   java -Djava.security.krb5.conf=KRB5 GssServer.java PRINCIPAL KEYTAB QOP
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.security.PrivilegedExceptionAction;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslServer;

public class GssServer {
    public static void main(String[] args) throws Exception {
        String principal = args[0], keytab = args[1], qop = args[2];
        Configuration jaas = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                Map<String, String> o = new HashMap<>();
                o.put("useKeyTab", "true");
                o.put("keyTab", keytab);
                o.put("principal", principal);
                o.put("storeKey", "true");
                o.put("doNotPrompt", "true");
                o.put("isInitiator", "false");
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, o)};
            }
        };
        LoginContext lc = new LoginContext("spate", new Subject(), null, jaas);
        lc.login();
        Subject.doAs(lc.getSubject(), (PrivilegedExceptionAction<Void>) () -> {
            serve(principal, qop);
            return null;
        });
    }

    static void serve(String principal, String qop) throws Exception {
        String service = principal.substring(0, principal.indexOf('/'));
        String host = principal.substring(principal.indexOf('/') + 1, principal.indexOf('@'));
        Map<String, String> props = new HashMap<>();
        props.put(Sasl.QOP, qop);
        props.put(Sasl.SERVER_AUTH, "true");
        SaslServer s = Sasl.createSaslServer("GSSAPI", service, host, props, callbacks -> {
            for (Callback cb : callbacks) {
                if (cb instanceof AuthorizeCallback ac) {
                    ac.setAuthorized(true);
                }
            }
        });
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        PrintStream out = System.out;
        HexFormat hex = HexFormat.of();
        while (!s.isComplete()) {
            byte[] ch = s.evaluateResponse(hex.parseHex(in.readLine().trim()));
            out.println((s.isComplete() ? "S " : "C ") + hex.formatHex(ch == null ? new byte[0] : ch));
            out.flush();
        }
        out.println("QOP " + s.getNegotiatedProperty(Sasl.QOP) + " " + s.getAuthorizationID());
        out.flush();
        byte[] w = hex.parseHex(in.readLine().trim());
        String msg = new String(s.unwrap(w, 0, w.length), "UTF-8");
        out.println("GOT " + msg);
        byte[] reply = ("pong:" + msg).getBytes("UTF-8");
        out.println("W " + hex.formatHex(s.wrap(reply, 0, reply.length)));
        out.flush();
    }
}

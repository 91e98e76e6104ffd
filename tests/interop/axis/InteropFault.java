package interop;

/*
 * A declared (checked) exception that is a bean, as Java services declare them, in a package as they
 * are: Axis declares NullService.fail's fault part by type and sends the exception as a
 * Server.userException fault whose detail entry is named after the class (interop.InteropFault),
 * with the part's type as xsi:type, followed by a stack trace and the host name.
 */
public class InteropFault extends Exception {
    private int code;
    private String reason;

    public InteropFault() { }

    public InteropFault(int code, String reason) {
        super(reason);
        this.code = code;
        this.reason = reason;
    }

    public int getCode() { return code; }
    public void setCode(int code) { this.code = code; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
}

/*
 * The rpc/encoded interop peer on Apache Axis 1.4 (tests/interop/test_axis_nulls.py): Axis generates
 * the WSDL from this class (served at ?wsdl) and answers null returns and null array members with
 * xsi:nil, as legacy Java services do. Deployed by server-config.wsdd, run by AxisPeer.
 */
public class NullService {
    /** A bean: Axis maps it to a complexType with nillable members. */
    public static class Item {
        private String name;
        private Integer count;

        public String getName() { return name; }
        public void setName(String name) { this.name = name; }
        public Integer getCount() { return count; }
        public void setCount(Integer count) { this.count = count; }
    }

    /** Throws the declared InteropFault for any code but 0; a negative code throws an undeclared one. */
    public String fail(int code) throws interop.InteropFault {
        if (code < 0) {
            throw new IllegalStateException("negative code " + code);
        }
        if (code != 0) {
            throw new interop.InteropFault(code, "failed with code " + code);
        }
        return "ok";
    }

    public String nothing() { return null; }

    public Integer noNumber() { return null; }

    public Item noItem() { return null; }

    /** A bean, so that a null return is not the only thing noItem's part can carry. */
    public Item item(String name) {
        Item item = new Item();
        item.setName(name);
        return item;
    }

    public String[] names() { return new String[] {"name1", null, "name3"}; }

    public String echo(String s) { return s; }

    public String[] echoArray(String[] a) { return a; }

    /** How many members of the array were null, as Axis decoded them ("null" for a null array). */
    public String nullsIn(String[] a) {
        if (a == null) {
            return "null";
        }
        int n = 0;
        for (String s : a) {
            if (s == null) {
                n++;
            }
        }
        return n + " of " + a.length;
    }
}

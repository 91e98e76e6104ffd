/*
 * A document/literal "wrapped" service on Apache Axis 1.4 (tests/interop/test_axis_lax.py): Axis
 * generates its WSDL from this class, and its replies break that WSDL, as its wrapped style is known
 * to, which is what reply_validation lax is for.
 */
public class WrappedService {
    /** A bean with an array member and an Integer that may be null. */
    public static class Tagged {
        private String name;
        private String[] tags;
        private Integer count;

        public String getName() { return name; }
        public void setName(String name) { this.name = name; }
        public String[] getTags() { return tags; }
        public void setTags(String[] tags) { this.tags = tags; }
        public Integer getCount() { return count; }
        public void setCount(Integer count) { this.count = count; }
    }

    public Tagged tagged(String name) {
        Tagged t = new Tagged();
        t.setName(name);
        t.setTags(new String[] {"red", "green"});
        return t;
    }

    public String nothing(String name) { return null; }
}

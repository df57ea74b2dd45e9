
b0ard_1gw-2b+

c1ann#ff8800

c2bob#0088ff˜u
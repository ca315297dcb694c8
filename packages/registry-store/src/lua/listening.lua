-- A registry replica says it is listening (see noteListening in prelude.lua).
--
-- KEYS[1]  the registryListening key
-- ARGV[1]  now (ms; stored as the value, for operators)
-- ARGV[2]  PX of the listening key: an absence longer than this counts as the registry being away
-- ARGV[3]  grace (ms) after such an absence: one agent timeout
--
-- Returns 1 when the registry had been away and the grace began with this call, else 0.
if noteListening(ARGV[1], ARGV[2], ARGV[3]) then return 1 end
return 0

namespace CacheGen.Redis;

/// <summary>
/// The Lua scripts. Each touches one entry key and its tags' generation keys, which share a hash slot (see
/// <see cref="RedisKeyLayout"/>), so they run atomically on one node, Redis Cluster included. On a cluster, an entry
/// whose keys fall in different slots never gets here: RedisStore keeps it in-process only. The eviction scripts take
/// many keys of one slot at once (RedisStore groups an eviction of many by slot).
/// </summary>
/// <remarks>
/// Generations are kept as decimal strings (INCR's format) and compared as strings. A generation is ours only in its
/// canonical form: "0", or 1 to 18 digits without a leading zero (so INCR never overflows and two spellings of one
/// number never meet). Anything else under a generation key (foreign bytes) is replaced by a fresh random generation:
/// a repair, which is an eviction of the tag, reported back so the client logs it. Numbers are compared by length,
/// then as text: Lua's numbers are doubles, exact only up to 2^53.
/// A generation never moves back: a client passes the highest generation it has seen under each key (its floor), and a
/// generation found below it (Redis lost writes: a restore from an older snapshot, a lagging replica) is raised to one
/// past it (SET, then INCR: exact at any size).
/// </remarks>
internal static class LuaScripts
{
    // Declared before the scripts that use them: static fields are set in the order they are written.
    private static readonly string ValueVersionText = Envelope.ValueVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static readonly string FirstForeignByteText = Envelope.FirstForeignByte.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // `head` starts with the entry's first byte, its format version: one of a newer runtime is left as it is.
    private static readonly string KeepNewer =
        "\nif #head > 0 then\n"
        + "  local version = string.byte(head, 1)\n"
        + "  if version > " + ValueVersionText + " and version < " + FirstForeignByteText + " then return 2 end\n"
        + "end\n";

    // Shared helpers: is a value a generation of ours, and is a (canonical) generation lower than another.
    private const string Helpers = """
        local function canonical(v)
          return v and (v == '0' or (#v <= 18 and string.match(v, '^[1-9]%d*$') ~= nil))
        end
        local function lower(a, b)
          return #a < #b or (#a == #b and a < b)
        end

        """;

    /// <summary>
    /// KEYS = [entry, gen(tag1), ...]; ARGV = [ttl ms of created keys, extend ('1' = make each generation live at least
    /// ttl ms), init1..initN random initial generations, floor1..floorN (the highest seen, '' = none)].
    /// Returns [entry or nil, gen1, ..., genN, repaired, raised]: the current generations, created when missing (so the
    /// generations a reader remembers exist and a later eviction changes them), repaired when foreign, raised to their
    /// floor when lower; and how many were repaired and raised.
    /// </summary>
    public const string Read = Helpers + """
        local result = { redis.call('GET', KEYS[1]) }
        local first = 2
        """ + CurrentGenerations;

    /// <summary>
    /// KEYS = [gen(tag1), ...]; ARGV as <see cref="Read"/>. Returns [gen1, ..., genN, repaired, raised] (for an
    /// unconditional set, which must carry the generations it is written under).
    /// </summary>
    public const string Generations = Helpers + """
        local result = {}
        local first = 1
        """ + CurrentGenerations;

    private const string CurrentGenerations = """

        local n = #KEYS - first + 1
        local ttl = ARGV[1]
        local repaired, raised = 0, 0
        for i = first, #KEYS do
          local j = i - first + 1
          local gen = redis.call('GET', KEYS[i])
          local fresh = not canonical(gen)
          if fresh then
            if gen then repaired = repaired + 1 end
            gen = ARGV[2 + j]
            redis.call('SET', KEYS[i], gen, 'PX', ttl)
          end
          local floor = ARGV[2 + n + j]
          if floor ~= '' and lower(gen, floor) then
            redis.call('SET', KEYS[i], floor, 'KEEPTTL')
            redis.call('INCR', KEYS[i])
            gen = redis.call('GET', KEYS[i])
            -- A key that expired (its TTL, or a volatile-* policy) restarts below the floor as often as not: only a
            -- generation that was there and went back is a rollback worth a warning.
            if not fresh then raised = raised + 1 end
          end
          if ARGV[2] == '1' and redis.call('PTTL', KEYS[i]) < tonumber(ttl) then
            redis.call('PEXPIRE', KEYS[i], ttl)
          end
          result[i] = gen
        end
        result[#KEYS + 1] = repaired
        result[#KEYS + 2] = raised
        return result
        """;

    /// <summary>
    /// The stale-set guard. KEYS = [entry, gen(tag1), ...]; ARGV = [envelope, ttl ms, stamp (bytes 1..8 of what the read
    /// found under the entry, '' if it found nothing), gen1, ...].
    /// Writes the envelope only if nothing was written or evicted since the read; returns 1 if it wrote, 0 if not.
    /// One GETRANGE reads just the stamp, not the whole value: '' for a missing key, so "still missing" and "still the
    /// same write" are one comparison (every value or tombstone CacheGen writes has a stamp; only foreign bytes shorter
    /// than two read as ''). On a non-string it raises WRONGTYPE (the read's MGET shows one as missing), so the client
    /// can remove that foreign value.
    /// A written entry's generation keys then live at least as long as it does (PEXPIRE up to its TTL, never down): a
    /// generation key that expired while an entry carried it would only turn the entry into a miss, but a tag's keys
    /// live no longer than the entries that need them.
    /// A value in a newer format (see <see cref="Envelope.IsNewerVersion"/>) is kept: returns 2, written by neither.
    /// </summary>
    public static readonly string GuardedSet = """
        local head = redis.call('GETRANGE', KEYS[1], 0, 8)
        """ + KeepNewer + """
        if string.sub(head, 2) ~= ARGV[3] then return 0 end
        for i = 2, #KEYS do
          if redis.call('GET', KEYS[i]) ~= ARGV[i + 2] then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        local ttl = tonumber(ARGV[2])
        for i = 2, #KEYS do
          if redis.call('PTTL', KEYS[i]) < ttl then
            redis.call('PEXPIRE', KEYS[i], ARGV[2])
          end
        end
        return 1
        """;

    /// <summary>
    /// An unconditional write (SetAsync). KEYS = [entry]; ARGV = [envelope, ttl ms]. Returns 1 if it wrote, 2 if the entry
    /// holds a value in a newer format, which it keeps.
    /// </summary>
    public static readonly string Set = """
        -- SET replaces a value of any type: a non-string (GETRANGE fails on it) is foreign data, replaced too.
        local head = redis.pcall('GETRANGE', KEYS[1], 0, 0)
        if type(head) ~= 'string' then head = '' end
        """ + KeepNewer + """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    /// <summary>
    /// Tag eviction, O(1) per tag, for one tag or many of one hash slot. KEYS = [gen(tag1), ...]; ARGV = [ttl ms,
    /// random1..N, floor1..N (the highest seen, '' = none)]. For each: INCR the generation; if it was lost or foreign,
    /// start it at its random value that no old entry carries (with a TTL: the next entry written under it extends it);
    /// if that is not past the floor, move it to one past the floor. Returns [gen1, repaired1 (0 or 1), gen2, ...].
    /// INCR keeps the key's TTL; a key from a version that set none gets one.
    /// </summary>
    public const string Evict = Helpers + Bump + """
        local n = #KEYS
        local result = {}
        for i = 1, n do
          result[2 * i - 1], result[2 * i] = bump(KEYS[i], ARGV[1], ARGV[1 + i], ARGV[1 + n + i])
        end
        return result
        """;

    /// <summary>
    /// Key evictions of one hash slot with the keys' own generations (which reach every shape of an entry, see
    /// RedisKeyLayout.KeyGeneration) in the same slot: one call. KEYS = [entry1..N, keygen1..N]; ARGV = [tombstone,
    /// entry ttl ms, generation ttl ms, random1..N, floor1..N]. Each entry gets the tombstone, then each generation moves
    /// on as <see cref="Evict"/> moves it. Returns what <see cref="Evict"/> returns, for the generations.
    /// </summary>
    public const string EvictKeys = Helpers + Bump + """
        local n = #KEYS / 2
        for i = 1, n do
          redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
        end
        local result = {}
        for i = 1, n do
          result[2 * i - 1], result[2 * i] = bump(KEYS[n + i], ARGV[3], ARGV[3 + i], ARGV[3 + n + i])
        end
        return result
        """;

    /// <summary>Moves one generation on: see <see cref="Evict"/>. Returns the generation and whether it was repaired.</summary>
    private const string Bump = """
        local function bump(key, ttl, start, floor)
          local gen = redis.call('GET', key)
          local repaired = 0
          if canonical(gen) then
            redis.call('INCR', key)
            gen = redis.call('GET', key)
            if redis.call('PTTL', key) == -1 then
              redis.call('PEXPIRE', key, ttl)
            end
          else
            if gen then repaired = 1 end
            gen = start
            redis.call('SET', key, gen, 'PX', ttl)
          end
          if floor ~= '' and (gen == floor or lower(gen, floor)) then
            redis.call('SET', key, floor, 'KEEPTTL')
            redis.call('INCR', key)
            gen = redis.call('GET', key)
          end
          return gen, repaired
        end

        """;

    /// <summary>
    /// Key evictions of one hash slot in one call. KEYS = [entry1, ...]; ARGV = [tombstone, ttl ms]. SET replaces a
    /// value of any type, so each tombstone also repairs foreign data under its key. Returns how many it wrote.
    /// </summary>
    public const string Tombstones = """
        for i = 1, #KEYS do
          redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
        end
        return #KEYS
        """;

    /// <summary>
    /// Gives a generation key of an earlier release a lifetime. KEYS = [key]; ARGV = [ttl ms]. Only a string that is a
    /// generation (canonical decimal) and has no TTL gets one; anything else under the name (an entry of other code that
    /// happens to match the pattern: entries always have a TTL) is left alone. Returns 1 if it set a TTL.
    /// </summary>
    public const string ExpireLegacyGeneration = Helpers + """
        if redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
        local value = redis.pcall('GET', KEYS[1])
        if type(value) ~= 'string' or not canonical(value) then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        return 1
        """;

    /// <summary>
    /// Releases a fill lease only if it is still ours. KEYS = [lease]; ARGV = [token]. A lease that expired and was taken
    /// by another instance is left alone.
    /// </summary>
    public const string ReleaseLease = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    /// <summary>
    /// Fill leases of one hash slot for a batch. KEYS = [lease1, ...]; ARGV = [token, ttl ms]. Takes each lease that no
    /// one holds (SET NX PX). Returns [1 if taken, else 0, ...] in key order.
    /// </summary>
    public const string AcquireLeases = """
        local taken = {}
        for i = 1, #KEYS do
          taken[i] = redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
        end
        return taken
        """;

    /// <summary>
    /// Releases a batch's fill leases of one hash slot, each only if it is still ours. KEYS = [lease1, ...]; ARGV = [token].
    /// </summary>
    public const string ReleaseLeases = """
        local released = 0
        for i = 1, #KEYS do
          if redis.call('GET', KEYS[i]) == ARGV[1] then
            released = released + redis.call('DEL', KEYS[i])
          end
        end
        return released
        """;

    /// <summary>
    /// Deletes whichever of KEYS holds something other than a string (or nothing): the one kind of foreign data a
    /// read cannot skip, since every command on the key fails. A deleted generation key reads as a region eviction.
    /// </summary>
    public const string DeleteNonStrings = """
        local deleted = 0
        for i = 1, #KEYS do
          local kind = redis.call('TYPE', KEYS[i])['ok']
          if kind ~= 'string' and kind ~= 'none' then
            redis.call('DEL', KEYS[i])
            deleted = deleted + 1
          end
        end
        return deleted
        """;
}

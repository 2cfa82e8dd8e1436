namespace CacheGen.Redis;

/// <summary>
/// The Lua scripts. Each touches one entry key and its tags' generation keys, which share a hash slot (see
/// <see cref="RedisKeyLayout"/>), so they run atomically on one node, Redis Cluster included. On a cluster, an entry
/// whose keys fall in different slots never gets here: RedisStore keeps it in-process only. Generations are kept as
/// decimal strings (INCR's format) and compared as strings.
/// </summary>
internal static class LuaScripts
{
    /// <summary>
    /// KEYS = [entry, gen(tag1), ...]; ARGV = [init1, ...] random initial generations.
    /// Returns [entry or nil, gen1, ...]. A missing generation key is created here, so the generations a reader
    /// remembers always exist and a later eviction (INCR) changes them.
    /// </summary>
    public const string Read = """
        local result = { redis.call('GET', KEYS[1]) }
        local first = 2
        """ + CurrentGenerations;

    /// <summary>
    /// The stale-set guard. KEYS = [entry, gen(tag1), ...]; ARGV = [envelope, ttl ms, expect ('0' = the entry was
    /// missing, '1' = it existed), stamp (bytes 2..9 of what was there), gen1, ...].
    /// Writes the envelope only if nothing was written or evicted since the read; returns 1 if it wrote, 0 if not.
    /// GETRANGE reads just the stamp, not the whole value; on a key the read found empty it also raises WRONGTYPE for a
    /// non-string (the read's MGET shows one as missing), so the client can remove that foreign value.
    /// </summary>
    public const string GuardedSet = """
        if ARGV[3] == '0' then
          if redis.call('EXISTS', KEYS[1]) == 1 then
            redis.call('GETRANGE', KEYS[1], 0, 0)
            return 0
          end
        else
          if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
          if redis.call('GETRANGE', KEYS[1], 1, 8) ~= ARGV[4] then return 0 end
        end
        for i = 2, #KEYS do
          if redis.call('GET', KEYS[i]) ~= ARGV[i + 3] then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    /// <summary>
    /// KEYS = [gen(tag1), ...]; ARGV = [init1, ...]. Returns the current generations, creating missing ones (for
    /// an unconditional set, which must carry the generations it is written under).
    /// </summary>
    public const string Generations = """
        local result = {}
        local first = 1
        """ + CurrentGenerations;

    // Shared tail of Read and Generations: result[i] = the generation under KEYS[i] for i >= first, created from the
    // random initial values in ARGV (ARGV[1] belongs to KEYS[first]) when missing.
    private const string CurrentGenerations = """

        for i = first, #KEYS do
          local gen = redis.call('GET', KEYS[i])
          if not gen then
            gen = ARGV[i - first + 1]
            redis.call('SET', KEYS[i], gen)
          end
          result[i] = gen
        end
        return result
        """;

    /// <summary>
    /// Region eviction, O(1). KEYS = [gen(tag)]; ARGV = [random]. INCR the generation, or if it was lost, start it at
    /// a random value that no old entry carries. No TTL, so volatile-* eviction policies leave it alone.
    /// </summary>
    public const string Evict = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          return redis.call('INCR', KEYS[1])
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return 0
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

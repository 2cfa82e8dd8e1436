using CacheGen.Infrastructure;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Redis key names, Django style: <c>{KeyPrefix}:{KeyVersion}:{key}</c> for an entry,
/// <c>{KeyPrefix}:{KeyVersion}:#gen:{tag}</c> (braces literal) for a tag's generation counter (<c>...:#tag:{region}:t</c>
/// for a tag that starts with a hash tag of its own, as generated tags do),
/// <c>{KeyPrefix}:{KeyVersion}:#lease:{key}</c> for a fill lease and <c>{KeyPrefix}:{KeyVersion}:#clear</c> (on a
/// cluster, one per hash slot) for the clear epoch. Generated keys start with <c>{region}</c>, so an entry and its
/// region's counter share a Redis Cluster hash slot and one Lua script may touch both.
/// </summary>
/// <remarks>
/// <para>
/// The key space of entries is disjoint from CacheGen's own keys by construction, whatever text other code passes as
/// a key: every internal key starts with <c>#</c> and a letter after the prefix, and an entry key that starts with
/// <c>#</c> is written with one more <c>#</c> in front (<c>#gen:{posts}</c> becomes <c>example:1:##gen:{posts}</c>).
/// So an entry key is either text that does not start with <c>#</c>, or starts with <c>##</c> (or, shortened, with
/// <c>#</c> and then <c>{</c> or the marker byte): never <c>#</c> and a letter. The mapping stays one-to-one.
/// (Channels are another namespace in Redis: no key can be a channel.)
/// </para>
/// <para>
/// Entry, lease and generation keys are at most <see cref="MaximumKeyBytes"/> bytes. A key that would be longer, or
/// that holds a lone surrogate (UTF-8 cannot carry one: StackExchange.Redis would write U+FFFD, and two keys would
/// meet), is shortened to a readable head, the byte <see cref="HashedMarker"/> and the SHA-256 of the whole key in hex.
/// The head keeps the key's first hash tag, so the slot does not move (a hash tag too long for the cap is kept all the
/// same). 0xFF never occurs in UTF-8, so a shortened key can never equal a key written as text; two shortened keys are
/// equal only if SHA-256 collides.
/// </para>
/// </remarks>
internal sealed class RedisKeyLayout
{
    /// <summary>
    /// The longest entry, lease or generation key, in bytes: room for a long prefix, a generic method signature and a few
    /// arguments, so ordinary keys stay whole and readable, while one key's name costs Redis (memory, every command
    /// and reply that carries it, replication) at most 1 KiB whatever the caller passes.
    /// </summary>
    public const int MaximumKeyBytes = 1024;

    /// <summary>Separates the head of a shortened key from its hash; a byte that UTF-8 text never contains.</summary>
    public const byte HashedMarker = 0xFF;

    private const int HashHexLength = SHA256.HashSizeInBytes * 2;

    /// <summary>What every internal key starts with after the prefix; an entry key starting with it gets one more.</summary>
    public const char InternalMarker = '#';

    private readonly string _prefix;
    private readonly RedisKey _serverClear;
    private readonly string _escapedPrefix;
    private readonly string _leasePrefix;
    private readonly string _generationPrefix;
    private readonly string _ownSlotGenerationPrefix;
    private readonly string _keyGenerationPrefix;
    private readonly byte[] _keyGenerationPrefixBytes;
    private readonly byte[] _prefixBytes;
    private readonly byte[] _escapedPrefixBytes;
    private readonly byte[] _leasePrefixBytes;
    private readonly byte[] _generationPrefixBytes;
    private readonly byte[] _ownSlotGenerationPrefixBytes;

    public RedisKeyLayout(string keyPrefix, int keyVersion)
    {
        // Django's make_key: '%s:%s:%s' % (prefix, version, key), so an empty prefix gives ":1:key".
        _prefix = keyPrefix + ":" + keyVersion.ToString(CultureInfo.InvariantCulture) + ":";
        _escapedPrefix = _prefix + InternalMarker;
        _leasePrefix = _prefix + "#lease:";
        _generationPrefix = _prefix + "#gen:";
        _ownSlotGenerationPrefix = _prefix + "#tag:";
        _keyGenerationPrefix = _prefix + "#key:";
        _keyGenerationPrefixBytes = Encoding.UTF8.GetBytes(_keyGenerationPrefix);
        // Every entry on a single server carries it: made once, not per read.
        _serverClear = _prefix + "#clear";
        _prefixBytes = Encoding.UTF8.GetBytes(_prefix);
        _escapedPrefixBytes = Encoding.UTF8.GetBytes(_escapedPrefix);
        _leasePrefixBytes = Encoding.UTF8.GetBytes(_leasePrefix);
        _generationPrefixBytes = Encoding.UTF8.GetBytes(_generationPrefix);
        _ownSlotGenerationPrefixBytes = Encoding.UTF8.GetBytes(_ownSlotGenerationPrefix);
        EvictionChannel = RedisChannel.Literal(_prefix + "cachegen:evict");
    }

    /// <summary>The text every key starts with, e.g. <c>example:1:</c>.</summary>
    public string Prefix => _prefix;

    /// <summary>
    /// A region's generation key as releases before internal keys started with <c>#</c> named it,
    /// <c>{KeyPrefix}:{KeyVersion}:gen:{region}</c> (written without a TTL; see <see cref="LegacyGenerations"/>).
    /// </summary>
    public RedisKey LegacyGeneration(string region) => _prefix + "gen:{" + region + "}";

    /// <summary>The pub/sub channel that carries evictions between instances.</summary>
    public RedisChannel EvictionChannel { get; }

    /// <summary>An entry's key: the prefix and the key, with one more <see cref="InternalMarker"/> when the key starts with one.</summary>
    public RedisKey Entry(string key) => Entry(key, reserve: 0);

    /// <summary>An entry's key, shortened so that <paramref name="reserve"/> more bytes still fit under the cap.</summary>
    private RedisKey Entry(string key, int reserve) =>
        key.Length > 0 && key[0] == InternalMarker ? Bounded(_escapedPrefix, _escapedPrefixBytes, key, reserve) : Bounded(_prefix, _prefixBytes, key, reserve);

    /// <summary>The cross-instance fill lease of an entry: the key's own hash tag comes first, so it shares the entry's slot.</summary>
    public RedisKey Lease(string key) => Bounded(_leasePrefix, _leasePrefixBytes, key);

    /// <summary>
    /// A tag's generation counter. A tag that starts with a hash tag of its own (<c>{posts}:post:7</c>, as generated
    /// tags do) keeps it: <c>#tag:{posts}:post:7</c> lives in the slot of region <c>posts</c>, beside the entries that
    /// carry it. Any other tag becomes the key's hash tag (<c>#gen:{posts}</c>), as it is in the keys of the tag's
    /// entries. The two forms start differently, so no two tags share a counter.
    /// </summary>
    public RedisKey Generation(string tag) =>
        HasOwnHashTag(tag) ? Bounded(_ownSlotGenerationPrefix, _ownSlotGenerationPrefixBytes, tag)
        : IsWholeUtf8Within(tag, MaximumKeyBytes - _generationPrefixBytes.Length - 2)
            ? _generationPrefix + "{" + tag + "}"
            : Shortened(_generationPrefixBytes, "{" + tag + "}");

    /// <summary>
    /// The clear epoch that entries in Redis Cluster hash slot <paramref name="slot"/> carry like a generation
    /// (<c>RemoveByTagAsync("*")</c> moves it on). A server that is not a cluster (slot -1) has one,
    /// <c>{KeyPrefix}:{KeyVersion}:#clear</c>; a cluster has one per slot, <c>...:#clear:{tag}</c> with a hash tag that
    /// falls in that slot, so it shares the slot of every entry that carries it.
    /// </summary>
    public RedisKey Clear(int slot) => slot < 0 ? _serverClear : _prefix + "#clear:{" + ClusterSlots.TagOf(slot) + "}";

    /// <summary>
    /// The entry key followed by one generation key per tag, in tag order: the KEYS of the read and write scripts. The
    /// <see cref="ClearTag"/> stands for the clear epoch of the entry's hash slot, which <paramref name="slotOf"/> gives
    /// (-1 when the server is not a cluster).
    /// </summary>
    public RedisKey[] EntryAndGenerations(string key, string[] tags, Func<RedisKey, int> slotOf)
    {
        var keys = new RedisKey[tags.Length + 1];
        keys[0] = Entry(key);
        for (int i = 0; i < tags.Length; i++)
        {
            if (ShapeTags.TryGetShape(tags[i], out string? shape))
            {
                keys[0] = ShapedEntry(key, shape);
                keys[i + 1] = KeyGeneration(key);
            }
            else
                keys[i + 1] = ReferenceEquals(tags[i], ClearTag) ? Clear(slotOf(keys[0])) : Generation(tags[i]);
        }
        return keys;
    }

    /// <summary>
    /// The entry of one shape of a value type under a key: the entry key (shortened early enough that the whole stays
    /// under the cap), <see cref="ShapeMarker"/>, and the shape's fingerprint. The key's hash tag comes first, so every
    /// shape shares the slot of the key.
    /// </summary>
    public RedisKey ShapedEntry(string key, string shape)
    {
        int shapeBytes = Encoding.UTF8.GetByteCount(shape);
        byte[] head = Entry(key, reserve: 1 + shapeBytes)!;
        var shaped = new byte[head.Length + 1 + shapeBytes];
        head.CopyTo(shaped, 0);
        shaped[head.Length] = ShapeMarker;
        Encoding.UTF8.GetBytes(shape, shaped.AsSpan(head.Length + 1));
        return shaped;
    }

    /// <summary>
    /// A SCAN pattern for the entries of every shape of <paramref name="key"/> whose fingerprint has
    /// <paramref name="shapeLength"/> bytes (the generator's have 16), for the inspector.
    /// </summary>
    public RedisValue ShapedEntryPattern(string key, int shapeLength = 16)
    {
        byte[] head = Entry(key, reserve: 1 + shapeLength)!;
        var pattern = new List<byte>(head.Length + 8);
        foreach (byte b in head)
        {
            if (b is (byte)'*' or (byte)'?' or (byte)'[' or (byte)']' or (byte)'\\')
                pattern.Add((byte)'\\');
            pattern.Add(b);
        }
        pattern.Add(ShapeMarker);
        pattern.Add((byte)'*');
        return pattern.ToArray();
    }

    /// <summary>
    /// Separates an entry key from its shape: a byte UTF-8 never holds and, unlike <see cref="HashedMarker"/>, never
    /// written in an entry key, so a shaped entry key can equal no other key (and splits at its first 0xFE).
    /// </summary>
    public const byte ShapeMarker = 0xFE;

    /// <summary>
    /// The generation of one key, <c>{KeyPrefix}:{KeyVersion}:#key:{key}</c>, carried by every shape of its entry (see
    /// <see cref="ShapeTags"/>): a key eviction moves it on besides writing the tombstone. The key's hash tag stays the
    /// first, so it shares the entry's slot.
    /// </summary>
    public RedisKey KeyGeneration(string key) => Bounded(_keyGenerationPrefix, _keyGenerationPrefixBytes, key);

    /// <summary>
    /// The tag every entry in Redis carries last, for the clear epoch of its slot. Told apart by reference, not by text:
    /// a tag "*" that other code gives an entry is an ordinary tag (<c>#gen:{*}</c>), this instance is the only one.
    /// </summary>
    public static readonly string ClearTag = new('*', 1);

    /// <summary>Starts with a non-empty <c>{...}</c>: Redis Cluster hashes the key by that text.</summary>
    private static bool HasOwnHashTag(string tag) => KeyFormat.TryGetRegion(tag, out _);

    private static RedisKey Bounded(string prefix, byte[] prefixBytes, string key, int reserve = 0) =>
        IsWholeUtf8Within(key, MaximumKeyBytes - reserve - prefixBytes.Length) ? prefix + key : Shortened(prefixBytes, key, reserve);

    /// <summary>True if <paramref name="key"/> is well-formed UTF-16 and its UTF-8 form takes at most <paramref name="budget"/> bytes.</summary>
    private static bool IsWholeUtf8Within(string key, int budget)
    {
        // UTF-8 never takes fewer bytes than UTF-16 has chars.
        if (key.Length > budget)
            return false;
        if (Ascii.IsValid(key))
            return true;
        int bytes = 0;
        for (int i = 0; i < key.Length; i++)
        {
            char c = key[i];
            if (c < 0x80)
                bytes += 1;
            else if (c < 0x800)
                bytes += 2;
            else if (!char.IsSurrogate(c))
                bytes += 3;
            else if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                bytes += 4;
                i++;
            }
            else
                return false; // a lone surrogate
            if (bytes > budget)
                return false;
        }
        return true;
    }

    private static byte[] Shortened(byte[] prefixBytes, string key, int reserve = 0)
    {
        ReadOnlySpan<char> head = Head(key, MaximumKeyBytes - reserve - prefixBytes.Length - 1 - HashHexLength);
        // The head is for people reading the key list: a lone surrogate in it may show as U+FFFD, the hash tells keys apart.
        int headBytes = Encoding.UTF8.GetByteCount(head);
        var result = new byte[prefixBytes.Length + headBytes + 1 + HashHexLength];
        prefixBytes.CopyTo(result, 0);
        int position = prefixBytes.Length + Encoding.UTF8.GetBytes(head, result.AsSpan(prefixBytes.Length));
        result[position++] = HashedMarker;

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashUtf16(key, hash);
        for (int i = 0; i < hash.Length; i++)
        {
            result[position++] = HexDigit(hash[i] >> 4);
            result[position++] = HexDigit(hash[i] & 0xF);
        }
        return result;
    }

    /// <summary>
    /// The readable head of a shortened key: as much of <paramref name="key"/> as fits in <paramref name="budget"/>
    /// UTF-8 bytes without splitting a surrogate pair, if that includes the key's first hash tag; otherwise the hash
    /// tag alone. Redis Cluster hashes only the text between the first '{' and the next '}', so either keeps the slot.
    /// </summary>
    private static ReadOnlySpan<char> Head(string key, int budget)
    {
        int length = 0;
        int bytes = 0;
        while (length < key.Length)
        {
            char c = key[length];
            bool pair = char.IsHighSurrogate(c) && length + 1 < key.Length && char.IsLowSurrogate(key[length + 1]);
            int size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            if (bytes + size > budget)
                break;
            bytes += size;
            length += pair ? 2 : 1;
        }

        int open = key.IndexOf('{');
        int close = open < 0 ? -1 : key.IndexOf('}', open + 1);
        return close < 0 || close < length ? key.AsSpan(0, length) : key.AsSpan(open, close + 1 - open);
    }

    /// <summary>SHA-256 of the key's UTF-16 code units, little-endian: unlike UTF-8 it keeps lone surrogates apart.</summary>
    private static void HashUtf16(string key, Span<byte> hash)
    {
        if (BitConverter.IsLittleEndian)
        {
            SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()), hash);
            return;
        }
        var units = new byte[key.Length * 2];
        for (int i = 0; i < key.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(units.AsSpan(i * 2), key[i]);
        SHA256.HashData(units, hash);
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);
}

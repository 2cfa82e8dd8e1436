using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Redis key names, Django style: <c>{KeyPrefix}:{KeyVersion}:{key}</c> for an entry and
/// <c>{KeyPrefix}:{KeyVersion}:gen:{tag}</c> (braces literal) for a region's generation counter. Generated keys start
/// with <c>{region}</c>, so an entry and its region's counter share a Redis Cluster hash slot and one Lua script may
/// touch both.
/// </summary>
/// <remarks>
/// Entry, lease and generation keys are at most <see cref="MaximumKeyBytes"/> bytes. A key that would be longer, or
/// that holds a lone surrogate (UTF-8 cannot carry one: StackExchange.Redis would write U+FFFD, and two keys would
/// meet), is shortened to a readable head, the byte <see cref="HashedMarker"/> and the SHA-256 of the whole key in hex.
/// The head keeps the key's first hash tag, so the slot does not move (a hash tag too long for the cap is kept all the
/// same). 0xFF never occurs in UTF-8, so a shortened key can never equal a key written as text; two shortened keys are
/// equal only if SHA-256 collides.
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

    private readonly string _prefix;
    private readonly string _leasePrefix;
    private readonly byte[] _prefixBytes;
    private readonly byte[] _leasePrefixBytes;
    private readonly byte[] _generationPrefixBytes;

    public RedisKeyLayout(string keyPrefix, int keyVersion)
    {
        // Django's make_key: '%s:%s:%s' % (prefix, version, key), so an empty prefix gives ":1:key".
        _prefix = keyPrefix + ":" + keyVersion.ToString(CultureInfo.InvariantCulture) + ":";
        _leasePrefix = _prefix + "lease:";
        _prefixBytes = Encoding.UTF8.GetBytes(_prefix);
        _leasePrefixBytes = Encoding.UTF8.GetBytes(_leasePrefix);
        _generationPrefixBytes = Encoding.UTF8.GetBytes(_prefix + "gen:");
        EvictionChannel = RedisChannel.Literal(_prefix + "cachegen:evict");
    }

    /// <summary>The text every key starts with, e.g. <c>example:1:</c>.</summary>
    public string Prefix => _prefix;

    /// <summary>The pub/sub channel that carries evictions between instances.</summary>
    public RedisChannel EvictionChannel { get; }

    public RedisKey Entry(string key) => Bounded(_prefix, _prefixBytes, key);

    /// <summary>The cross-instance fill lease of an entry: the key's own hash tag comes first, so it shares the entry's slot.</summary>
    public RedisKey Lease(string key) => Bounded(_leasePrefix, _leasePrefixBytes, key);

    /// <summary>A tag's generation counter: the tag is the key's hash tag, as it is in the keys of the tag's entries.</summary>
    public RedisKey Generation(string tag) =>
        IsWholeUtf8Within(tag, MaximumKeyBytes - _generationPrefixBytes.Length - 2)
            ? _prefix + "gen:{" + tag + "}"
            : Shortened(_generationPrefixBytes, "{" + tag + "}");

    /// <summary>The clear epoch of a Redis Cluster hash slot (-1: the single key of a server that is not a cluster).</summary>
    public RedisKey Clear(int slot) => slot < 0 ? _prefix + "#clear" : _prefix + "#clear:{" + slot.ToString(CultureInfo.InvariantCulture) + "}";

    /// <summary>The entry key followed by one generation key per tag, in tag order: the KEYS of the read and write scripts.</summary>
    public RedisKey[] EntryAndGenerations(string key, string[] tags)
    {
        var keys = new RedisKey[tags.Length + 1];
        keys[0] = Entry(key);
        for (int i = 0; i < tags.Length; i++)
            keys[i + 1] = Generation(tags[i]);
        return keys;
    }

    private static RedisKey Bounded(string prefix, byte[] prefixBytes, string key) =>
        IsWholeUtf8Within(key, MaximumKeyBytes - prefixBytes.Length) ? prefix + key : Shortened(prefixBytes, key);

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

    private static byte[] Shortened(byte[] prefixBytes, string key)
    {
        ReadOnlySpan<char> head = Head(key, MaximumKeyBytes - prefixBytes.Length - 1 - HashHexLength);
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

using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace CacheGen.Infrastructure;

/// <summary>
/// Builds cache keys for generated code without intermediate strings. Values are written culture-invariantly and
/// escaped (<c>\</c> -&gt; <c>\\</c>, <c>|</c> -&gt; <c>\|</c>); <c>null</c> is written as <c>\0</c>, which no escaped
/// value can produce, so a default key (a constant prefix, then <c>|</c> before every argument) is injective.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref struct CacheKeyBuilder
{
    /// <summary>The separator written before each argument of a default key.</summary>
    public const char Separator = KeyFormat.Separator;
    private const char Escape = KeyFormat.Escape;

    private Span<char> _chars;
    private char[]? _rented;
    private int _length;

    /// <summary>Starts a key in <paramref name="initialBuffer"/> (usually stack memory); grows into a pooled array.</summary>
    public CacheKeyBuilder(Span<char> initialBuffer)
    {
        _chars = initialBuffer;
        _rented = null;
        _length = 0;
    }

    /// <summary>The key built so far.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ReadOnlySpan<char> AsSpan() => _chars[.._length];

    /// <summary>The key as a string.</summary>
    public override readonly string ToString() => new(AsSpan());

    /// <summary>Writes compile-time text verbatim.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendLiteral(string text) => AppendRaw(text.AsSpan());

    /// <summary>Writes the argument separator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendSeparator() => AppendRaw(Separator);

    /// <summary>Writes a string argument, escaped; <c>null</c> differs from <c>""</c>.</summary>
    public void AppendString(string? value)
    {
        if (value is null)
        {
            AppendNull();
            return;
        }
        AppendEscaped(value.AsSpan());
    }

    /// <summary>Writes a boolean argument.</summary>
    public void AppendBoolean(bool value) => AppendRaw(value ? "true" : "false");

    /// <summary>Writes a nullable boolean argument.</summary>
    public void AppendBoolean(bool? value)
    {
        if (value is { } v)
            AppendBoolean(v);
        else
            AppendNull();
    }

    /// <summary>Writes a formattable argument with the invariant culture (and <paramref name="format"/>, when given).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendFormattable<T>(T value, string? format = null) where T : ISpanFormattable
    {
        // Fast path (numbers, ids): format in place; escape only if the text may hold a special character, which an
        // integer in the default format never does.
        if (value is not null && value.TryFormat(_chars[_length..], out int written, format, CultureInfo.InvariantCulture)
            && ((format is null && IsInteger<T>()) || !_chars.Slice(_length, written).ContainsAny(Escape, Separator)))
        {
            _length += written;
            return;
        }
        AppendFormattableSlow(value, format);
    }

    // Folded to a constant for each T by the JIT.
    private static bool IsInteger<T>() =>
        typeof(T) == typeof(int) || typeof(T) == typeof(long) || typeof(T) == typeof(short) || typeof(T) == typeof(byte)
        || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong) || typeof(T) == typeof(ushort) || typeof(T) == typeof(sbyte);

    // Out of line: a method with stackalloc is never inlined, and this path is rare.
    private void AppendFormattableSlow<T>(T? value, string? format) where T : ISpanFormattable
    {
        if (value is null)
        {
            AppendNull();
            return;
        }
        Span<char> scratch = stackalloc char[64];
        char[]? rented = null;
        try
        {
            int written;
            while (!value.TryFormat(scratch, out written, format, CultureInfo.InvariantCulture))
            {
                if (rented is not null)
                    ArrayPool<char>.Shared.Return(rented);
                rented = ArrayPool<char>.Shared.Rent(scratch.Length * 2);
                scratch = rented;
            }
            AppendEscaped(scratch[..written]);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Writes a nullable formattable argument; <c>null</c> is written as the null marker.</summary>
    public void AppendFormattable<T>(T? value, string? format = null) where T : struct, ISpanFormattable
    {
        if (value.HasValue)
            AppendFormattable(value.GetValueOrDefault(), format);
        else
            AppendNull();
    }

    /// <summary>Writes an <see cref="IFormattable"/> argument that cannot format into a span.</summary>
    public void AppendFormattableObject(IFormattable? value, string? format = null) =>
        AppendString(value?.ToString(format, CultureInfo.InvariantCulture));

    /// <summary>Writes an argument through its <see cref="object.ToString"/> override.</summary>
    public void AppendObject(object? value)
    {
        if (value is null)
        {
            AppendNull();
            return;
        }
        AppendString(value.ToString() ?? "");
    }

    /// <summary>Writes a generic type argument, so that generic instantiations get distinct keys.</summary>
    public void AppendType(Type type) => AppendEscaped(type.ToString().AsSpan());

    /// <summary>
    /// Writes an integer argument of a key whose longest form fits <paramref name="destination"/> (generated code sizes
    /// the buffer from the type) and returns the number of characters written. Integers need no escaping.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteInteger<T>(Span<char> destination, T value) where T : struct, ISpanFormattable
    {
        if (!value.TryFormat(destination, out int written, default, CultureInfo.InvariantCulture))
            throw new ArgumentException("The key buffer is too small for the value.", nameof(destination));
        return written;
    }

    /// <summary>Writes a nullable integer argument (see the other overload); <c>null</c> is the null marker.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteInteger<T>(Span<char> destination, T? value) where T : struct, ISpanFormattable
    {
        if (value.HasValue)
            return WriteInteger(destination, value.GetValueOrDefault());
        destination[0] = Escape;
        destination[1] = '0';
        return 2;
    }

    /// <summary>Returns pooled memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Dispose()
    {
        // Only a key that outgrew the stack holds anything to return.
        char[]? rented = _rented;
        if (rented is not null)
        {
            this = default;
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private void AppendNull()
    {
        AppendRaw(KeyFormat.Null[0]);
        AppendRaw(KeyFormat.Null[1]);
    }

    private void AppendEscaped(scoped ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c is Escape or Separator)
                AppendRaw(Escape);
            AppendRaw(c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendRaw(char c)
    {
        if (_length == _chars.Length)
            Grow(1);
        _chars[_length++] = c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendRaw(scoped ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _chars.Length)
            Grow(text.Length);
        text.CopyTo(_chars[_length..]);
        _length += text.Length;
    }

    private void Grow(int additional)
    {
        char[] bigger = ArrayPool<char>.Shared.Rent(Math.Max(_chars.Length * 2, _length + additional + 16));
        _chars[.._length].CopyTo(bigger);
        if (_rented is not null)
            ArrayPool<char>.Shared.Return(_rented);
        _rented = bigger;
        _chars = bigger;
    }
}

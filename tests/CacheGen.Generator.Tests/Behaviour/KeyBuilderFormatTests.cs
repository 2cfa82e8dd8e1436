using CacheGen.Infrastructure;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>Formatted arguments are written in place when they can be, and still escaped when their text needs it.</summary>
public sealed class KeyBuilderFormatTests
{
    private delegate void Build(ref CacheKeyBuilder builder);

    private static string Key(Build build, int stack)
    {
        var builder = new CacheKeyBuilder(new char[stack]);
        try
        {
            build(ref builder);
            return builder.ToString();
        }
        finally
        {
            builder.Dispose();
        }
    }

    [Theory]
    [InlineData(4)]    // too small for the number: formatted into scratch, then grown
    [InlineData(64)]   // formatted in place
    public void A_format_that_writes_separators_is_escaped_wherever_the_number_was_formatted(int stack)
    {
        Assert.Equal(@"n:1\|2", Key((ref CacheKeyBuilder b) => { b.AppendLiteral("n:"); b.AppendFormattable(12, @"0\|0"); }, stack));
        Assert.Equal(@"n:12\\\\", Key((ref CacheKeyBuilder b) => { b.AppendLiteral("n:"); b.AppendFormattable(12, @"00\\\\"); }, stack));
        Assert.Equal("n:-123456789", Key((ref CacheKeyBuilder b) => { b.AppendLiteral("n:"); b.AppendFormattable(-123456789); }, stack));
        Assert.Equal(@"n:\0", Key((ref CacheKeyBuilder b) => { b.AppendLiteral("n:"); b.AppendFormattable((int?)null); }, stack));
    }

    [Fact]
    public void Integers_fit_the_width_generated_code_reserves_for_them()
    {
        // Generated code sizes a text-and-integers key from these widths: 11 for an int, 20 for a long.
        Span<char> int32 = stackalloc char[11];
        Assert.Equal("-2147483648", int32[..CacheKeyBuilder.WriteInteger(int32, int.MinValue)].ToString());
        Span<char> int64 = stackalloc char[20];
        Assert.Equal("-9223372036854775808", int64[..CacheKeyBuilder.WriteInteger(int64, long.MinValue)].ToString());
        Assert.Equal("18446744073709551615", int64[..CacheKeyBuilder.WriteInteger(int64, ulong.MaxValue)].ToString());
        Assert.Equal(@"\0", int32[..CacheKeyBuilder.WriteInteger(int32, (int?)null)].ToString());
        Assert.Equal("7", int32[..CacheKeyBuilder.WriteInteger(int32, (int?)7)].ToString());
    }
}

namespace CacheGen.AspNetCore.Encoding;

internal enum ContentCoding
{
    Identity,
    Gzip,
    Brotli,
}

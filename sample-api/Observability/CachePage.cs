namespace CacheGen.SampleApi.Observability;

/// <summary>The <c>/cache</c> page: one self-contained HTML file (its script and SVG chart inline, nothing from the network), embedded in the assembly.</summary>
internal static class CachePage
{
    public static readonly string Html = Load();

    private static string Load()
    {
        using Stream stream = typeof(CachePage).Assembly.GetManifestResourceStream("CacheGen.SampleApi.Observability.cache.html")
            ?? throw new InvalidOperationException("cache.html is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

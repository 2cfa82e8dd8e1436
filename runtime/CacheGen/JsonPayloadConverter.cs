using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CacheGen;

/// <summary>
/// Writes a <see cref="JsonPayload"/> as its own JSON (not a wrapper object) and reads any JSON value back into one.
/// Public so that source-generated <c>JsonSerializerContext</c>s can reach it.
/// </summary>
public sealed class JsonPayloadConverter : JsonConverter<JsonPayload>
{
    /// <inheritdoc />
    public override JsonPayload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        return JsonPayload.FromTrustedUtf8(JsonMarshal.GetRawUtf8Value(document.RootElement).ToArray());
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JsonPayload value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8Json.Span, skipInputValidation: true);

    /// <inheritdoc />
    public override bool HandleNull => false;
}

using System;
using System.Text;

namespace CacheGen.Generator.Emitting;

/// <summary>An indenting text writer: generated code is written as text, line by line.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void WriteLine(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _indent * 4);
        _text.Append(line).Append('\n');
    }

    public void OpenBlock(string? header = null)
    {
        if (header is not null)
            WriteLine(header);
        WriteLine("{");
        _indent++;
    }

    public void CloseBlock()
    {
        _indent--;
        WriteLine("}");
    }

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public override string ToString() => _text.ToString();
}

"""The import graph among runtime/src's top-level modules, and its cycles.

    python3 scripts/import_graph.py runtime/src

Reads every `crate::x` path, grouped imports (`use crate::{a, b::c}`: the
first segment of each item, nested braces balanced) and `super::super::x`,
with comments stripped; prints each module's edges, the edges only grouped
imports show (which runtime/tests/layers.rs misses), and the strongly
connected components of more than one module. `... detail MOD...` lists
the sites of MOD's edges. A reading aid for docs/design/structure.md.
"""
import os,re,sys,collections
src=sys.argv[1]
mods=set()
files=[]
for d,_,fs in os.walk(src):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); files.append(p)
            rel=os.path.relpath(p,src); m=rel.split('/')[0].removesuffix('.rs')
            if m!='lib': mods.add(m)
def mod_of(p):
    m=os.path.relpath(p,src).split('/')[0].removesuffix('.rs')
    return None if m=='lib' else m
def strip_comments(t):
    # remove // comments (incl doc) and /* */ ; naive wrt strings
    t=re.sub(r'/\*.*?\*/','',t,flags=re.S)
    return '\n'.join(l.split('//')[0] for l in t.split('\n'))
edges=collections.defaultdict(lambda: collections.defaultdict(list))
simple=collections.defaultdict(set)
for p in files:
    fr=mod_of(p)
    if fr is None: continue
    raw=open(p).read()
    t=strip_comments(raw)
    # grouped: use crate::{ ... };  (balanced braces)
    for mt in re.finditer(r'crate::\{',t):
        i=mt.end(); depth=1; j=i
        while depth and j<len(t):
            if t[j]=='{': depth+=1
            elif t[j]=='}': depth-=1
            j+=1
        body=t[i:j-1]
        # top-level names in group
        depth=0; cur=''
        items=[]
        for ch in body:
            if ch=='{': depth+=1
            elif ch=='}': depth-=1
            if ch==',' and depth==0: items.append(cur); cur=''
            else: cur+=ch
        items.append(cur)
        for it in items:
            n=re.match(r'\s*([A-Za-z_][A-Za-z0-9_]*)',it)
            if n and n.group(1) in mods and n.group(1)!=fr:
                line=t[:mt.start()].count('\n')+1
                edges[fr][n.group(1)].append(f"{os.path.relpath(p,src)}:{line} (grouped)")
    for mt in re.finditer(r'crate::([A-Za-z_][A-Za-z0-9_]*)',t):
        n=mt.group(1)
        line=t[:mt.start()].count('\n')+1
        if n in mods and n!=fr:
            edges[fr][n].append(f"{os.path.relpath(p,src)}:{line}")
            simple[fr].add(n)
    # super::super:: from a nested module
    for mt in re.finditer(r'super::super::([A-Za-z_][A-Za-z0-9_]*)',t):
        n=mt.group(1); line=t[:mt.start()].count('\n')+1
        if n in mods and n!=fr: edges[fr][n].append(f"{os.path.relpath(p,src)}:{line} (super::super)")
G={a:set(b) for a,b in edges.items()}
mode=sys.argv[2] if len(sys.argv)>2 else 'edges'
if mode=='edges':
    for a in sorted(G):
        print(a,'->',' '.join(sorted(G[a])))
    print('\nedges only seen in grouped imports (missed by layers.rs):')
    for a in sorted(edges):
        for b in sorted(edges[a]):
            if b not in simple[a]: print(' ',a,'->',b, edges[a][b])
# SCCs
idx={};low={};st=[];on=set();sccs=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in G.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        sccs.append(comp)
for v in sorted(mods):
    if v not in idx: sc(v)
print('\nSCCs >1:',[sorted(s) for s in sccs if len(s)>1])
if mode=='detail':
    for a in sys.argv[3:]:
        for b in sorted(edges[a]): print(a,'->',b,edges[a][b][:6])

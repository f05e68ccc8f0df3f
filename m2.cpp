#include <unistd.h>
#include <string>
#include <vector>
int main(int c,char**v){std::vector<std::string> a(v,v+c); pause(); return a.size();}
